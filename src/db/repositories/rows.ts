// One place for the row types of the tables services and repositories read: each is what a
// `select()` of its table answers (schema.ts is the truth; these only name it).
import type {
  aftermarketDevices,
  documents,
  errorCodeQueries,
  firmwareUpdateTasks,
  integrations,
  manufacturers,
  metaTransactionRequests,
  nftPrivileges,
  syntheticDevices,
  userDevices,
} from '../schema.ts';

export type UserDeviceRow = typeof userDevices.$inferSelect;
export type NewUserDeviceRow = typeof userDevices.$inferInsert;
export type PrivilegeRow = typeof nftPrivileges.$inferSelect;
export type AftermarketDeviceRow = typeof aftermarketDevices.$inferSelect;
export type MetaTxRow = typeof metaTransactionRequests.$inferSelect;
export type SyntheticDeviceRow = typeof syntheticDevices.$inferSelect;
export type IntegrationRow = typeof integrations.$inferSelect;
export type ManufacturerRow = typeof manufacturers.$inferSelect;
export type FirmwareTaskRow = typeof firmwareUpdateTasks.$inferSelect;
export type NewFirmwareTaskRow = typeof firmwareUpdateTasks.$inferInsert;
export type DocumentRow = typeof documents.$inferSelect;
export type NewDocumentRow = typeof documents.$inferInsert;
export type ErrorCodeQueryRow = typeof errorCodeQueries.$inferSelect;
