//! libFuzzer entry for `gridgov::fuzzing::geojson_geometry`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gridgov::fuzzing::geojson_geometry(data));
