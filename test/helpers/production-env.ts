// A complete, valid production environment (every variable production mode requires), for tests
// that need `loadConfig` to accept production mode. Nothing here is contacted unless a test does.
export const PRODUCTION_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://devices@db.invalid:5432/devices',
  JWT_JWKS_URL: 'https://auth.invalid/keys',
  JWT_ISSUER: 'https://auth.invalid',
  JWT_AUDIENCE: 'devices-api',
  PUBLIC_BASE_URL: 'https://api.invalid',
  S3_BUCKET: 'devices',
  // The chain: an existing registry on a JSON-RPC endpoint.
  CHAIN_RPC_URL: 'https://rpc.invalid',
  CHAIN_ID: '137',
  REGISTRY_ADDRESS: '0x0000000000000000000000000000000000000001',
  VEHICLE_NFT_ADDRESS: '0x0000000000000000000000000000000000000002',
  AFTERMARKET_DEVICE_NFT_ADDRESS: '0x0000000000000000000000000000000000000003',
  SYNTHETIC_DEVICE_NFT_ADDRESS: '0x0000000000000000000000000000000000000004',
  MANUFACTURER_NFT_ADDRESS: '0x0000000000000000000000000000000000000005',
  INTEGRATION_NFT_ADDRESS: '0x0000000000000000000000000000000000000006',
  REGISTRY_DEPLOY_BLOCK: '1000',
  RELAYER_PRIVATE_KEY: '0x0000000000000000000000000000000000000000000000000000000000000001',
  SYNTHETIC_WALLET_MNEMONIC: 'test test test test test test test test test test test junk',
};
