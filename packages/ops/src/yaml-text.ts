import { Document, visit } from 'yaml';

/**
 * Plain scalars that YAML 1.1 parsers (PyYAML, older Go and Java libraries) read as something else
 * than the string YAML 1.2 reads: the value key `=`, null `~`, the merge key `<<`, the 1.1 booleans
 * and base-60 numbers. They are written double-quoted.
 */
const YAML11_AMBIGUOUS =
  /^(?:=|~|<<|[yYnN]|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$/;

/**
 * YAML text of `value` that every parser reads the same (YAML 1.1 and 1.2): strings a 1.1 parser
 * would take for another type are quoted; long lines are not folded.
 */
export function toYaml(value: unknown): string {
  const doc = new Document(value);
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && YAML11_AMBIGUOUS.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0 });
}
