//! Fuzz target: any bytes opened as a `.gilscope` recording load or give one error, never a
//! panic; what loads can be replayed as an outcome and its last frames.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = gilscope::recording::Recording::from_reader("fuzz.gilscope", data) {
        if let Some(run) = rec.last_run() {
            let _ = run.outcome();
            let _ = run.final_frames();
        }
        let _ = rec.to_bytes();
    }
});
