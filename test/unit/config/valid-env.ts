/** A complete, valid worker environment (the sandbox as vendor), for tests to vary. */
export const valid = {
  KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7',
  ANTOM_BASE_URL: 'http://127.0.0.1:8080',
  ANTOM_SANDBOX: 'true',
  ANTOM_CLIENT_ID: 'SANDBOX_5X00000000000000',
  ANTOM_PRIVATE_KEY_FILE: '/keys/merchant-private.pem',
  ANTOM_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----',
};
