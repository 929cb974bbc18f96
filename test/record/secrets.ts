/** Planted secrets of every kind the privacy rules name; none may survive redaction. */
export const SECRETS = {
  password: 'hunter2-Sup3rSecret!',
  email: 'jane.doe@example.com',
  card: '4111 1111 1111 1111',
  cardCompact: '5555555555554444',
  iban: 'DE89 3704 0044 0532 0130 00',
  ibanCompact: 'GB82WEST12345698765432',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  bearer: 'Bearer abc123def456ghi789',
  bearerToken: 'abc123def456ghi789',
  phone: '+44 20 7946 0958',
  phoneUs: '(415) 555-0199',
  ssn: '078-05-1120',
  nino: 'AB 12 34 56 C',
  apiKey: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  cvv: '737',
} as const;

/** Kinds that leaked before (issue 18.5), each with the bytes that must never reach the database. */
export const PEM_BODY = 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0';
export const PEM = `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n/vXQ0MAqTqgd3vKqkAFFfP9w1Th8kxCQ2R3Ny4kRw==\n-----END RSA PRIVATE KEY-----`;
export const MORE_SECRETS = {
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzqhEXr3KEY',
  nestedPassword: 'nested-Pa55word-in-json',
  semicolonPassword: 'semi-Pa55word-in-query',
  googleKey: 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY',
  phoneSpaces: '415 555 0100',
  ibanLower: 'de89370400440532013000',
  cardDots: '4111.1111.1111.1111',
  homoglyphPassword: 'homoglyph-Pa55word',
  resetToken: 'Zx8kQ2mN7pLw4RtY9vB3cD6fG1hJ5kL0',
  firstName: 'Wilhelmina',
  lastName: 'Fairweather-Quist',
  street: '742 Evergreen Terrace',
  postcode: 'SW1A 2AA',
} as const;

/** The strings whose presence anywhere means a leak (short ones such as the cvv are checked by key). */
export const LEAK_MARKERS: readonly string[] = [
  SECRETS.password, SECRETS.email, SECRETS.card, SECRETS.cardCompact, SECRETS.iban, SECRETS.ibanCompact,
  SECRETS.jwt, SECRETS.bearerToken, SECRETS.phone, SECRETS.phoneUs, SECRETS.ssn, SECRETS.nino, SECRETS.apiKey,
  PEM_BODY, ...Object.values(MORE_SECRETS),
];

export function expectNoLeak(text: string | null | undefined, where = 'output'): void {
  if (!text) return;
  for (const marker of LEAK_MARKERS) {
    if (text.includes(marker)) throw new Error(`secret ${JSON.stringify(marker)} leaked into ${where}: ${text.slice(0, 500)}`);
  }
}
