/**
 * A string that is already safe for output: `{{x}}` does not escape it, in any escape mode.
 * Duck-compatible with Handlebars.SafeString (Handlebars checks for `toHTML`), so helpers that
 * return it behave the same when registered in real Handlebars.
 */
export class SafeString {
  readonly string: string;
  constructor(string: string) {
    this.string = string;
  }
  toString(): string {
    return "" + this.string;
  }
  toHTML(): string {
    return "" + this.string;
  }
}
