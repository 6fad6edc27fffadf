//! Fuzz target: any bytes as an observed CPython's memory (and as its `_Py_DebugOffsets`
//! head) give thread names, a layout, or an error, never a panic.
#![no_main]

use gilscope_engine::runtime::cpython::gil_reader;
use gilscope_engine::runtime::cpython::thread_names::{Memory, ObjectLayout, ThreadNames};
use libfuzzer_sys::fuzz_target;

/// The fuzz input as a process image mapped at address 0.
struct Image<'a>(&'a [u8]);

impl Memory for Image<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        let start = usize::try_from(addr).map_err(|_| "address too high".to_owned())?;
        let end = start.checked_add(buf.len()).ok_or("overflow")?;
        let bytes = self.0.get(start..end).ok_or("unmapped")?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, image)) = data.split_first() else {
        return;
    };
    let _ = gil_reader::layout_from_debug_offsets(image);
    let _ = gil_reader::modules_from_debug_offsets(image);
    let _ = gil_reader::thread_flags_from_debug_offsets(image);
    let minor = [8, 9, 10, 11, 12, 13, 14, 15][usize::from(selector % 8)];
    let published = (selector & 8 != 0).then_some(104);
    if let Some(layout) = ObjectLayout::for_version(minor, published) {
        let interp = u64::from(selector >> 4) * 64;
        let _ = ThreadNames::new(layout, interp).read(&Image(image));
    }
});
