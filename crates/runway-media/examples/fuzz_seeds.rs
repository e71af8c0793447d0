//! Writes the fuzz seed corpus (`runway_media::fuzzing::seeds`) into a
//! directory, one file per seed:
//!
//! ```text
//! cargo run -p runway-media --example fuzz_seeds -- fuzz/corpus/pipeline
//! ```

fn main() -> std::io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "fuzz/corpus/pipeline".into());
    std::fs::create_dir_all(&dir)?;
    for (name, bytes) in runway_media::fuzzing::seeds() {
        let path = dir.join(format!("seed-{name}"));
        std::fs::write(&path, &bytes)?;
        println!("{} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}
