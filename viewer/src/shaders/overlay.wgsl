// The overlay (title, legend, panel, labels) drawn on the CPU: a full-
// screen texture blended over the map.
@group(0) @binding(0) var overlay: texture_2d<f32>;

@vertex
fn vs_overlay(@builtin(vertex_index) vi: u32) -> @builtin(position) vec4<f32> {
    var corners = array<vec2<f32>, 3>(vec2<f32>(-1.0, -1.0), vec2<f32>(3.0, -1.0), vec2<f32>(-1.0, 3.0));
    return vec4<f32>(corners[vi], 0.0, 1.0);
}

@fragment
fn fs_overlay(@builtin(position) p: vec4<f32>) -> @location(0) vec4<f32> {
    // Premultiplied RGBA from tiny-skia.
    return textureLoad(overlay, vec2<i32>(p.xy), 0);
}
