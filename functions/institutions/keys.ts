// Keys of the items this context owns. Other contexts read people, institutions and drugs through
// these builders (and update balances on the person item), never by spelling keys themselves.
export const institutionKey = (id: string) => ({ PK: `INST#${id}`, SK: 'PROFILE' });
export const institutionListKey = (type: string, id: string) => ({ GSI1PK: 'INSTITUTIONS', GSI1SK: `${type}#${id}` });
/**
 * Institutions of one type in one district (GSI2 of the institution item): the candidates pharmacy
 * routing reads, a district's worth instead of the province's.
 */
export const institutionDistrictKey = (type: string, district: string, id: string) => ({ GSI2PK: `INSTITUTIONS#${type}#${district}`, GSI2SK: id });
/** Districts are free text: escaped where a key is read by prefix, so that district "a" never matches "a#b". */
const districtPrefix = (district: string) => `${encodeURIComponent(district)}#`;
/**
 * One routing entry per department of an institution, written with it: who can take a referral in
 * that department, sorted by district so that routing reads the sender's district first.
 */
export const departmentRouteKey = (type: string, department: string, district: string, id: string) => ({
  PK: departmentRoutePartition(type, department),
  SK: `${districtPrefix(district)}${id}`,
});
export const departmentRoutePartition = (type: string, department: string) => `ROUTE#${type}#${department}`;
export const departmentRouteDistrictPrefix = districtPrefix;
/** The same entries of a lead hospital's consortium clinics (GSI1), where downward referrals look first. */
export const consortiumRouteKey = (department: string, leadHospitalId: string, id: string) => ({
  GSI1PK: consortiumRoutePartition(department, leadHospitalId),
  GSI1SK: id,
});
export const consortiumRoutePartition = (department: string, leadHospitalId: string) => `ROUTE#clinic#${department}#LEAD#${leadHospitalId}`;
export const personKey = (personId: string) => ({ PK: `PERSON#${personId}`, SK: 'PROFILE' });
/** One credit (划入) of a batch to the person's account: { batchId, amountFen, creditedAt }. Its existence makes the batch's credit once only. */
export const accountCreditKey = (personId: string, batchId: string) => ({ PK: `PERSON#${personId}`, SK: `CREDIT#${batchId}` });
export const drugKey = (drugCode: string) => ({ PK: `DRUG#${drugCode}`, SK: 'PROFILE' });
/** The catalog in drug-code order (GSI1): a national catalog of a few thousand entries, read a page at a time. */
export const drugListKey = (drugCode: string) => ({ GSI1PK: 'DRUGS', GSI1SK: drugCode });
