/**
 * A bound on what ingest holds at once (Node: INGEST_MAX_PENDING requests, INGEST_MAX_BODY_BYTES bytes) and
 * how much of it is held now. Its middleware takes and gives back; `/metrics` only reads, so that an operator
 * sees how near the bound the gateway is before a PBX event is refused.
 */
export class Bound {
  #held = 0;
  constructor(readonly max: number) {}

  get held(): number {
    return this.#held;
  }

  take(amount: number): void {
    this.#held += amount;
  }

  giveBack(amount: number): void {
    this.#held -= amount;
  }
}
