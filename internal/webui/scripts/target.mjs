// target.mjs: finds syntax and built-in APIs newer than Chromium 87 in
// JavaScript, the oldest browser the workbench supports (信创 office PCs).
// Vite's build.target transpiles syntax, but a dependency's pre-built code
// or a polyfill-needing API call slips through; this catches both.
import * as acorn from "acorn";
import * as walk from "acorn-walk";

// Built-in APIs Chromium 87 lacks, with the version that added them. A
// match is a call through a property of that name: `.at(` is
// Array/String.prototype.at.
const newerAPIs = [
  [/\.at\(/, "Array/String.prototype.at (Chrome 92)"],
  [/\bObject\.hasOwn\(/, "Object.hasOwn (Chrome 93)"],
  [/\bstructuredClone\(/, "structuredClone (Chrome 98)"],
  [/\.findLast(Index)?\(/, "Array.prototype.findLast (Chrome 97)"],
  [/\.to(Sorted|Reversed|Spliced)\(/, "change-array-by-copy (Chrome 110)"],
  [/\bObject\.groupBy\(|\bMap\.groupBy\(/, "Object.groupBy (Chrome 117)"],
  [/\bPromise\.withResolvers\(/, "Promise.withResolvers (Chrome 119)"],
];

/**
 * problems returns what in `code` (an ES module) Chromium 87 cannot run,
 * each as "line:column what", empty when nothing.
 * @param {string} code
 * @returns {string[]}
 */
export function problems(code) {
  const found = [];
  const at = (node, what) => {
    const { line, column } = acorn.getLineInfo(code, node.start);
    found.push(`${line}:${column + 1} ${what}`);
  };
  let ast;
  try {
    ast = acorn.parse(code, { ecmaVersion: "latest", sourceType: "module", allowHashBang: true });
  } catch (e) {
    return [`does not parse: ${e.message}`];
  }
  walk.fullAncestor(ast, (node, _state, ancestors) => {
    switch (node.type) {
      case "StaticBlock":
        at(node, "class static block (Chrome 94)");
        break;
      case "BinaryExpression":
        if (node.operator === "in" && node.left.type === "PrivateIdentifier") at(node, "#field in obj (Chrome 91)");
        break;
      case "Literal":
        if (node.regex && /[dv]/.test(node.regex.flags)) at(node, `RegExp flag in /${node.regex.flags}/ (Chrome 90+)`);
        break;
      case "VariableDeclaration":
        if (node.kind === "using" || node.kind === "await using") at(node, "using declaration");
        break;
      case "ImportExpression":
        if (node.options) at(node, "import() options (import attributes)");
        break;
      case "ImportDeclaration":
      case "ExportNamedDeclaration":
      case "ExportAllDeclaration":
        if (node.attributes && node.attributes.length) at(node, "import attributes");
        break;
      case "AwaitExpression":
      case "ForOfStatement": {
        if (node.type === "ForOfStatement" && !node.await) break;
        const inFunction = ancestors.some((a) =>
          a !== node && (a.type === "FunctionDeclaration" || a.type === "FunctionExpression" || a.type === "ArrowFunctionExpression"));
        if (!inFunction) at(node, "top-level await (Chrome 89)");
        break;
      }
    }
  });
  for (const [re, what] of newerAPIs) {
    const all = new RegExp(re.source, "g");
    for (let m = all.exec(code); m; m = all.exec(code)) {
      // Vue's reactive arrays forward each array method to the raw array
      // (`toSorted(e){return raw(this).toSorted(e)}`): defined, not used.
      if (code.slice(Math.max(0, m.index - 6), m.index) === "(this)") continue;
      const { line, column } = acorn.getLineInfo(code, m.index);
      found.push(`${line}:${column + 1} ${what}`);
      break;
    }
  }
  return found;
}
