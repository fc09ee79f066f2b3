/**
 * Finds conditional assertions: an `expect(...)` call under an `if`, a `?:` branch, `&&`/`||`/`??`,
 * a `catch` clause or a `case` of the same test, where it may silently not run.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const CONDITIONAL_OPERATORS = new Set([
  ts.SyntaxKind.AmpersandAmpersandToken,
  ts.SyntaxKind.BarBarToken,
  ts.SyntaxKind.QuestionQuestionToken,
]);

function guardOf(call: ts.Node): string | undefined {
  for (let p = call.parent; p !== undefined && !ts.isSourceFile(p); p = p.parent) {
    if (ts.isIfStatement(p)) return 'if';
    if (ts.isConditionalExpression(p)) return '?:';
    if (ts.isBinaryExpression(p) && CONDITIONAL_OPERATORS.has(p.operatorToken.kind)) {
      return p.operatorToken.getText();
    }
    if (ts.isCatchClause(p)) return 'catch';
    if (ts.isCaseClause(p) || ts.isDefaultClause(p)) return 'case';
  }
  return undefined;
}

/** `file:line (guard) expect(...)` for every conditional assertion in one file. */
export function conditionalAssertions(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'expect'
    ) {
      const guard = guardOf(node);
      if (guard !== undefined) {
        const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        let chain: ts.Node = node;
        while (ts.isPropertyAccessExpression(chain.parent) || ts.isCallExpression(chain.parent))
          chain = chain.parent;
        found.push(`${file}:${line} (${guard}) ${chain.getText(sf).slice(0, 60)}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Every .ts file below `dir`. */
export function tsFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return tsFiles(path);
      return name.endsWith('.ts') ? [path] : [];
    });
}
