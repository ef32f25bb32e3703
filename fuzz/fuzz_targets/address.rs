//! libFuzzer entry for `gridgov::fuzzing::address`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gridgov::fuzzing::address(data));
