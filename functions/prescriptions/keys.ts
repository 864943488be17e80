// Keys of the items the prescriptions context owns.
export const stockKey = (pharmacyId: string, drugCode: string) => ({ PK: `PHARMACY#${pharmacyId}`, SK: `STOCK#${drugCode}` });
