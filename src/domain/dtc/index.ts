// Diagnostic trouble codes: parsing, structural decoding, bundled titles and imported overrides.
export { MAX_CODES_PER_REQUEST, parseDtc, parseDtcList } from './code.ts';
export type { DtcListResult, ParsedDtc } from './code.ts';
export { decodeDtc } from './structure.ts';
export type { DecodedDtc, DtcDefinedBy, DtcSystem } from './structure.ts';
export { createDtcCatalog, describeDtc } from './catalog.ts';
export type { DescribeOptions, DtcCatalog, DtcDescription, DtcOverrides, DtcTitleSource } from './catalog.ts';
export { normaliseMake } from './make.ts';
export { MAX_IMPORTED_DESCRIPTION, parseDtcImportTsv } from './import-tsv.ts';
export type { DtcImportError, DtcImportResult, DtcImportRow } from './import-tsv.ts';
