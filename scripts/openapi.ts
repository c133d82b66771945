// Prints, writes or checks the OpenAPI document (scripts/openapi-document.ts), no server needed.
//
//   node --import tsx scripts/openapi.ts                 print the document
//   node --import tsx scripts/openapi.ts FILE            write it to FILE
//   node --import tsx scripts/openapi.ts --check FILE    exit 1 if FILE differs from it
import { readFileSync, writeFileSync } from 'node:fs';
import { openapiDocument } from './openapi-document.ts';

const text = `${JSON.stringify(await openapiDocument(), null, 2)}\n`;
const [first, second] = process.argv.slice(2);
if (first === '--check') {
  if (!second) throw new Error('--check needs a FILE');
  let committed = '';
  try {
    committed = readFileSync(second, 'utf8');
  } catch {
    // missing: stale
  }
  if (committed !== text) {
    console.error(`${second} is not the current OpenAPI document: run 'npm run client:generate' and commit the result.`);
    process.exit(1);
  }
  console.log(`${second} is the current OpenAPI document`);
} else if (first) {
  writeFileSync(first, text);
} else {
  process.stdout.write(text);
}
