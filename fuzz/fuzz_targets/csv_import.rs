//! libFuzzer entry for `gridgov::fuzzing::csv_import`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gridgov::fuzzing::csv_import(data));
