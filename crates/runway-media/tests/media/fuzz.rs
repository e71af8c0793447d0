//! The fuzz target's body (`runway_media::fuzzing::pipeline`, run by
//! `fuzz/` under libFuzzer) replayed on stable: over the generated seed
//! corpus, over every saved regression in `fuzz/regressions/pipeline/`, and
//! over random mutations of the seeds.

use proptest::prelude::*;
use runway_media::fuzzing::{limits, pipeline, presets, seeds};
use runway_media::{Limits, inspect, process};

#[test]
fn seeds_are_valid_and_pass_the_fuzz_checks() {
    let seeds = seeds();
    assert!(seeds.len() >= 8);
    for (name, bytes) in &seeds {
        assert!(bytes.len() < 4096, "{name} is a small seed");
        inspect(bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        if !name.starts_with("heif") {
            process(bytes, &limits(), &presets()).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        pipeline(bytes);
    }
}

#[test]
fn saved_regressions_replay() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/pipeline");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions/pipeline exists") {
        let path = entry.expect("list regressions").path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read a regression");
        pipeline(&bytes);
        replayed += 1;
    }
    println!("replayed {replayed} saved inputs");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_seeds_pass_the_fuzz_checks(
        seed in 0usize..8,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let mut bytes = seeds()[seed].1.clone();
        for (i, x) in flips {
            let len = bytes.len();
            bytes[i % len] ^= x;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        pipeline(&bytes);
    }
}
