// Keys of the items this context owns. Other contexts read people, institutions and drugs through
// these builders (and update balances on the person item), never by spelling keys themselves.
export const institutionKey = (id: string) => ({ PK: `INST#${id}`, SK: 'PROFILE' });
export const institutionListKey = (type: string, id: string) => ({ GSI1PK: 'INSTITUTIONS', GSI1SK: `${type}#${id}` });
export const personKey = (personId: string) => ({ PK: `PERSON#${personId}`, SK: 'PROFILE' });
export const drugKey = (drugCode: string) => ({ PK: `DRUG#${drugCode}`, SK: 'PROFILE' });
/** The catalog in drug-code order (GSI1): a national catalog of a few thousand entries, read a page at a time. */
export const drugListKey = (drugCode: string) => ({ GSI1PK: 'DRUGS', GSI1SK: drugCode });
