//! Per-run seeds: run `i` (0-based) of a Monte Carlo with master seed `S` uses seed
//! [`run_seed`]`(S, i)`, the `(i+1)`-th output of SplitMix64 seeded with `S`
//! (`z = S + (i+1)·0x9E3779B97F4A7C15`, then SplitMix64's finaliser). It depends on `(S, i)` only,
//! so run `i` is the same alone, in any thread pool, and in any shard.

/// How run seeds are derived, as recorded in `summary.json`.
pub const SEED_DERIVATION: &str = "seed of run i = (i+1)-th output of SplitMix64 seeded with master_seed (depends on master_seed and i only)";

/// SplitMix64's increment (the golden ratio in 64 bits).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of run `run` of a Monte Carlo with master seed `master` (see the module docs).
pub fn run_seed(master: u64, run: u32) -> u64 {
    mix(master.wrapping_add((run as u64 + 1).wrapping_mul(GAMMA)))
}

/// A SplitMix64 stream: the deterministic draws of Morris's paths and of `compare`'s bootstrap.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        mix(self.0)
    }

    /// A whole number in `0..n` (by the high bits of a 128-bit product: no modulo bias worth the
    /// name at these sizes).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_seeds_are_splitmix64_outputs() {
        // SplitMix64 seeded with 0: its first outputs are these (the reference sequence).
        assert_eq!(run_seed(0, 0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(run_seed(0, 1), 0x6E78_9E6A_A1B9_65F4);
        assert_ne!(run_seed(1, 0), run_seed(0, 0));
    }
}
