//! Fuzz target: any text as a Python file compiles to a code object or to one error, never a
//! panic; what compiles disassembles.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(module) = gilscope_python::compiler::compile(source, "fuzz.py") {
        let _ = gilscope_python::vm::code::disassemble_recursive(&module.code);
    }
});
