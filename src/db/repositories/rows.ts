// One place for the row types of the tables services and repositories read: each is what a
// `select()` of its table answers (schema.ts is the truth; these only name it).
import type * as schema from '../schema.ts';

export type UserDeviceRow = typeof schema.userDevices.$inferSelect;
export type NewUserDeviceRow = typeof schema.userDevices.$inferInsert;
export type PrivilegeRow = typeof schema.nftPrivileges.$inferSelect;
export type AftermarketDeviceRow = typeof schema.aftermarketDevices.$inferSelect;
export type MetaTxRow = typeof schema.metaTransactionRequests.$inferSelect;
export type SyntheticDeviceRow = typeof schema.syntheticDevices.$inferSelect;
export type IntegrationRow = typeof schema.integrations.$inferSelect;
export type ManufacturerRow = typeof schema.manufacturers.$inferSelect;
export type FirmwareTaskRow = typeof schema.firmwareUpdateTasks.$inferSelect;
export type NewFirmwareTaskRow = typeof schema.firmwareUpdateTasks.$inferInsert;
export type DocumentRow = typeof schema.documents.$inferSelect;
export type NewDocumentRow = typeof schema.documents.$inferInsert;
export type ErrorCodeQueryRow = typeof schema.errorCodeQueries.$inferSelect;
