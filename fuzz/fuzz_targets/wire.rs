//! Fuzz target: any bytes on a worker's pipe read as messages or end in one protocol error,
//! never a panic or an allocation the frame header alone asked for.
#![no_main]

use gilscope_engine::runtime::emulated::protocol::read_msg;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    // At most as many messages as there are bytes: each takes a header.
    for _ in 0..=data.len() {
        match read_msg(&mut input, 0, 0) {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
});
