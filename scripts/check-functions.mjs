// No source function over MAX_LINES lines without a reason (issue 24): every function declaration,
// function expression, arrow function, method, accessor and constructor of packages/*/src and
// examples/*/src (tests and dist not included) whose extent, from its signature line to its closing
// brace, is more than MAX_LINES lines needs a line starting with `Long because:` and the reason in the
// comment right above it: its JSDoc, or a `//` comment directly before the statement, property or
// variable that holds it. A long function is fine when it is long for a reason (a hot path keeping its
// locals in one closure, a state machine read in one place); otherwise split it.
//
//   node scripts/check-functions.mjs   (`pnpm run check:functions`, part of `pnpm test`)
//
// Fails listing each offender as `file:line name lines`; passes with a one-line summary.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const MAX_LINES = 100;
const REASON = /^\s*(?:\/\/+|\/\*+|\*+)?\s*Long because:\s*\S/;

/** The .ts sources under <dir>/src of every package and example (not tests, not declarations). */
function sourceFiles() {
  const out = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(path);
      } else if (
        entry.name.endsWith('.ts') &&
        !entry.name.endsWith('.d.ts') &&
        !/\.test(-d)?\.ts$/.test(entry.name)
      ) {
        out.push(path);
      }
    }
  };
  for (const group of ['packages', 'examples']) {
    for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const src = join(root, group, entry.name, 'src');
      try {
        walk(src);
      } catch (err) {
        if (err.code !== 'ENOENT') throw err;
      }
    }
  }
  return out.sort();
}

function isFunctionLike(node) {
  return (
    (ts.isFunctionDeclaration(node) ||
      ts.isFunctionExpression(node) ||
      ts.isArrowFunction(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node) ||
      ts.isConstructorDeclaration(node)) &&
    node.body !== undefined
  );
}

/**
 * The nodes whose leading comment may carry the reason: the function, then each node that holds it up
 * to the statement, class member or object property it belongs to (`export const f = () => {...}`:
 * the arrow function, its declaration, the declaration list and the statement).
 */
function holders(fn) {
  const out = [fn];
  let node = fn;
  while (
    node.parent &&
    !ts.isSourceFile(node.parent) &&
    !ts.isBlock(node.parent) &&
    !ts.isModuleBlock(node.parent) &&
    !ts.isCaseOrDefaultClause(node.parent) &&
    !ts.isClassLike(node.parent) &&
    !ts.isObjectLiteralExpression(node.parent)
  ) {
    node = node.parent;
    out.push(node);
  }
  return out;
}

function hasReason(text, fn) {
  for (const node of holders(fn)) {
    for (const range of ts.getLeadingCommentRanges(text, node.pos) ?? []) {
      const comment = text.slice(range.pos, range.end);
      if (comment.split('\n').some((line) => REASON.test(line))) return true;
    }
  }
  return false;
}

function nameOf(fn, sf) {
  if (fn.name) return fn.name.getText(sf);
  if (ts.isConstructorDeclaration(fn)) return 'constructor';
  for (const node of holders(fn).slice(1)) {
    if (ts.isVariableDeclaration(node) || ts.isPropertyAssignment(node) || ts.isPropertyDeclaration(node))
      return node.name.getText(sf);
    if (ts.isBinaryExpression(node)) return node.left.getText(sf);
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      const callee = node.expression.getText(sf);
      return `(callback of ${callee.length > 40 ? `${callee.slice(0, 40)}...` : callee})`;
    }
  }
  return '(anonymous)';
}

/** Every function-like node of one file: { name, line, lines, reason }. */
export function scanFile(path, text = readFileSync(path, 'utf8')) {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out = [];
  const visit = (node) => {
    if (isFunctionLike(node)) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.end).line;
      const lines = last - first + 1;
      out.push({
        name: nameOf(node, sf),
        line: first + 1,
        lines,
        reason: lines > MAX_LINES && hasReason(text, node),
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function main() {
  const files = sourceFiles();
  let scanned = 0;
  const long = [];
  for (const path of files) {
    for (const fn of scanFile(path)) {
      scanned++;
      if (fn.lines > MAX_LINES) long.push({ file: relative(root, path), ...fn });
    }
  }
  const missing = long.filter((fn) => !fn.reason);
  if (missing.length > 0) {
    for (const fn of missing) console.error(`${fn.file}:${fn.line} ${fn.name} ${fn.lines} lines`);
    console.error(
      `FAIL functions: ${missing.length} over ${MAX_LINES} lines with no reason: split each, or say why it is ` +
        'long on a line starting with "Long because:" in the comment right above it (scripts/check-functions.mjs)',
    );
    process.exit(1);
  }
  console.log(
    `ok   functions: ${scanned} scanned in ${files.length} files, ${long.length} over ${MAX_LINES} lines, each with a "Long because:" reason`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) main();
