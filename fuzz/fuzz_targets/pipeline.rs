//! sniff → limits → decode → orient → variants → placeholder, then
//! strip_metadata, on arbitrary bytes. The body lives in
//! `runway_media::fuzzing::pipeline` so that a stable test replays it.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runway_media::fuzzing::pipeline(data);
});
