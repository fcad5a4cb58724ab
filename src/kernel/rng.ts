/**
 * A seeded, replayable PRNG (xoshiro128**, Blackman & Vigna 2018), reimplemented
 * here because the model may not use Math.random: where the kernel is
 * nondeterministic the model draws from this, and an explorer can save and
 * restore the state to replay any choice.
 */
export interface Rng {
  /** uniform integer in [0, n) */
  below(n: number): number;
  getState(): readonly number[];
  setState(s: readonly number[]): void;
}

export class Xoshiro128 implements Rng {
  private s = new Uint32Array(4);
  constructor(seed: number) {
    // splitmix32 to spread the seed over the state
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }
  private next(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }
  below(n: number): number {
    return Math.floor((this.next() / 0x100000000) * n);
  }
  getState(): readonly number[] {
    return Array.from(this.s);
  }
  setState(st: readonly number[]): void {
    for (let i = 0; i < 4; i++) this.s[i] = st[i] >>> 0;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
