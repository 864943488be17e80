// Keys of operator alerts: one partition per province day (alerts are rare), by time (listed newest
// first); and a
// once-only marker per alert subject, so the same finding is raised once however often it recurs.
export const alertPartition = (day: string) => `ALERTS#${day}`;
export const alertKey = (day: string, at: string, alertId: string) => ({ PK: alertPartition(day), SK: `${at}#${alertId}` });
export const alertOnceKey = (subject: string) => ({ PK: `ALERT-ONCE#${subject}`, SK: 'RAISED' });
