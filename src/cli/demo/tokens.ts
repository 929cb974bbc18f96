/** The demo API's customers: each bearer token has a name, a client and a company. */
export interface DemoToken {
  secret: string;
  tokenName: string;
  clientId: string;
  companyId: string;
}

export const DEMO_TOKENS: readonly DemoToken[] = [
  { secret: 'sk_live_acme_9f8e7d6c5b4a', tokenName: 'prod-billing', clientId: 'billing-service', companyId: 'acme' },
  { secret: 'sk_live_acme_1a2b3c4d5e6f', tokenName: 'prod-dashboard', clientId: 'web-dashboard', companyId: 'acme' },
  { secret: 'sk_live_globex_77aa88bb99cc', tokenName: 'globex-sync', clientId: 'erp-connector', companyId: 'globex' },
  { secret: 'sk_live_initech_0011223344', tokenName: 'initech-mobile', clientId: 'ios-app', companyId: 'initech' },
  { secret: 'sk_test_umbrella_5566778899', tokenName: 'umbrella-staging', clientId: 'qa-suite', companyId: 'umbrella' },
];
