// The layering rules of README "Layout", checked on the source with the TypeScript compiler API,
// so a change that breaks one fails here rather than in a review.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '..');
const SRC = path.join(ROOT, 'src');
/** Generated (the contract ABIs) or data (the DTC title tables): not code anyone writes by hand. */
const NOT_HAND_WRITTEN = ['src/chain/abi/', 'src/domain/dtc/titles/'];
const MAX_OWN_LINES = 80;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const files = sourceFiles(SRC)
  .map((abs) => ({ rel: path.relative(ROOT, abs).split(path.sep).join('/'), abs }))
  .filter((f) => !NOT_HAND_WRITTEN.some((prefix) => f.rel.startsWith(prefix)))
  .map((f) => ({ ...f, source: ts.createSourceFile(f.abs, readFileSync(f.abs, 'utf8'), ts.ScriptTarget.Latest, true) }));

/** The repository paths (`src/…`) a file imports or re-exports from, relative imports only. */
function importsOf(file: (typeof files)[number]): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    const spec =
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)
        ? node.moduleSpecifier.text
        : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])
          ? node.arguments[0].text
          : undefined;
    if (spec?.startsWith('.')) out.push(path.relative(ROOT, path.resolve(path.dirname(file.abs), spec)).split(path.sep).join('/'));
    ts.forEachChild(node, visit);
  };
  visit(file.source);
  return out;
}

function importViolations(from: string[], forbidden: string[]): string[] {
  return files
    .filter((f) => from.some((p) => f.rel.startsWith(p)))
    .flatMap((f) => importsOf(f).filter((target) => forbidden.some((p) => target === p || target.startsWith(p))).map((target) => `${f.rel} imports ${target}`));
}

type FunctionNode = ts.FunctionLikeDeclaration & { body: ts.Node };

const isFunction = (node: ts.Node): node is FunctionNode =>
  (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)) &&
  node.body !== undefined;

function nameOf(fn: FunctionNode): string {
  if (fn.name && ts.isIdentifier(fn.name)) return fn.name.text;
  const parent = fn.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && ts.isIdentifier(parent.name)) return parent.name.text;
  return '(anonymous)';
}

/**
 * Lines of code (not blank, not only a comment) in the function's body, without the lines of
 * functions nested in it: a nested function costs its parent the one line it starts on.
 */
function ownLines(fn: FunctionNode, source: ts.SourceFile): number {
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
  const text = source.text.split('\n');
  const own = new Set<number>();
  for (let l = lineOf(fn.body.getStart(source)); l <= lineOf(fn.body.getEnd()); l++) {
    const t = text[l]!.trim();
    if (t !== '' && !t.startsWith('//') && !t.startsWith('*') && !t.startsWith('/*')) own.add(l);
  }
  const dropNested = (node: ts.Node) => {
    if (isFunction(node)) {
      for (let l = lineOf(node.getStart(source)) + 1; l <= lineOf(node.getEnd()); l++) own.delete(l);
      return;
    }
    ts.forEachChild(node, dropNested);
  };
  ts.forEachChild(fn.body, dropNested);
  return own.size;
}

function longFunctions(): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of files) {
    const visit = (node: ts.Node) => {
      if (isFunction(node)) {
        const n = ownLines(node, f.source);
        if (n > MAX_OWN_LINES) out.set(`${f.rel}:${nameOf(node)}`, n);
      }
      ts.forEachChild(node, visit);
    };
    visit(f.source);
  }
  return out;
}

describe('architecture', () => {
  it('services and domain do not import the HTTP layer', () => {
    assert.deepEqual(importViolations(['src/services/', 'src/domain/'], ['src/http/', 'src/http.ts']), []);
  });

  it('domain imports neither the database schema nor the contract ABIs', () => {
    assert.deepEqual(importViolations(['src/domain/'], ['src/db/schema', 'src/chain/abi']), []);
  });

  it(`no hand-written function has more than ${MAX_OWN_LINES} lines of its own code`, () => {
    assert.deepEqual([...longFunctions()].map(([where, n]) => `${where}: ${n} lines`), []);
  });
});
