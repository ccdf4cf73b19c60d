// The right-hand side of `UPDATE m SET f = <expression>` from node-sql-parser's AST to the canonical
// expression text replicas evaluate (sinks/segments field-expression grammar), checked against the
// measurement's field types here, so that a command a replica would refuse is refused at once with
// a message naming the part at fault. Semantics: docs/sql-commands.md, "Expressions".

import { checkExpression, formatExpression, type BinaryOperator, type Expression, type ExpressionType } from '../../sinks/segments/index.ts'
import { CommandError, CommandErrorCode } from './errors.ts'

/** The parts of node-sql-parser's AST read here. */
export interface SqlNode {
  type: string
  value?: unknown
  operator?: string
  left?: SqlNode
  right?: SqlNode
  expr?: SqlNode
  column?: string | { expr: { value: string } }
  name?: { name?: Array<{ value: string }> } | string
  args?: { value?: SqlNode[] }
  [key: string]: unknown
}

export interface ExpressionColumns {
  tags: ReadonlySet<string>
  fields: ReadonlyMap<string, ExpressionType>
}

const ARITHMETIC = new Set<string>(['+', '-', '*', '/', '%'])
const NUMBER_TEXT = /^-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i

/** The canonical text of the expression assigned to `field` (of type `type`). Throws CommandError naming the part. */
export function fieldExpressionText(node: SqlNode, field: string, type: ExpressionType, columns: ExpressionColumns, sqlOf: (node: SqlNode) => string): string {
  const expression = expressionOf(node, field, columns, sqlOf)
  const problem = checkExpression(expression, type, name => columns.fields.get(name))
  if (problem !== null) throw new CommandError(CommandErrorCode.BAD_VALUE, `field "${field}" = ${sqlOf(node)}: ${problem}`)
  return formatExpression(expression)
}

function expressionOf(node: SqlNode, field: string, columns: ExpressionColumns, sqlOf: (node: SqlNode) => string): Expression {
  const unsupported = (why: string): never => {
    throw new CommandError(CommandErrorCode.UNSUPPORTED, `field "${field}": ${why} in ${sqlOf(node)}; expressions take fields of the same point, numbers, + - * / %, parentheses, unary minus and abs()`)
  }
  const visit = (part: SqlNode): Expression => {
    switch (part.type) {
      case 'number':
      case 'bigint': {
        const text = String(part.value)
        if (!NUMBER_TEXT.test(text)) return unsupported(`the number ${text}`)
        return { kind: 'number', text }
      }
      case 'single_quote_string':
      case 'string':
        return { kind: 'string', value: String(part.value).replaceAll("''", "'") }
      case 'bool':
        return { kind: 'boolean', value: part.value === true }
      case 'column_ref':
        return { kind: 'field', name: fieldName(part, field, columns) }
      case 'unary_expr': {
        const operand = visit(part.expr!)
        if (part.operator === '+') return operand
        if (part.operator !== '-') return unsupported(`the operator ${part.operator}`)
        if (operand.kind === 'number') return { kind: 'number', text: operand.text.startsWith('-') ? operand.text.slice(1) : `-${operand.text}` }
        return { kind: 'negate', operand }
      }
      case 'binary_expr': {
        const left = visit(part.left!)
        const right = visit(part.right!)
        if (part.operator === '||') {
          // Concatenation of string constants only: folded here, so the command carries a constant.
          if (left.kind === 'string' && right.kind === 'string') return { kind: 'string', value: left.value + right.value }
          return unsupported('|| of anything but string constants')
        }
        if (!ARITHMETIC.has(part.operator ?? '')) return unsupported(`the operator ${part.operator}`)
        return { kind: 'binary', op: part.operator as BinaryOperator, left, right }
      }
      case 'function': {
        const name = typeof part.name === 'string' ? part.name : part.name?.name?.map(piece => piece.value).join('.') ?? ''
        const args = part.args?.value ?? []
        if (name.toLowerCase() !== 'abs') return unsupported(`the function ${name}()`)
        if (args.length !== 1) return unsupported(`abs() with ${args.length} arguments`)
        return { kind: 'abs', operand: visit(args[0]!) }
      }
      default:
        return unsupported(`${sqlOf(part)}`)
    }
  }
  return visit(node)
}

function fieldName(node: SqlNode, field: string, columns: ExpressionColumns): string {
  const column = node.column
  const name = typeof column === 'string' ? column : column?.expr?.value
  if (typeof name !== 'string') throw new CommandError(CommandErrorCode.UNSUPPORTED, `field "${field}": unsupported column reference`)
  if (name === 'time') throw new CommandError(CommandErrorCode.UNSUPPORTED, `field "${field}": expressions cannot read the time column`)
  if (columns.tags.has(name)) throw new CommandError(CommandErrorCode.UNSUPPORTED, `field "${field}": "${name}" is a tag; expressions read fields of the same point only`)
  if (!columns.fields.has(name)) throw new CommandError(CommandErrorCode.UNKNOWN_COLUMN, `field "${field}": column "${name}" not found`)
  return name
}
