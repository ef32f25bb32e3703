// The plan map: triangles in scene metres with a colour each (fills,
// strokes, view cones), instanced round markers sized in pixels, and the
// heatmap's colour pass.

struct View {
    view_proj: mat4x4<f32>,
    viewport: vec2<f32>,   // pixels
    _pad: vec2<f32>,
};
@group(0) @binding(0) var<uniform> view: View;

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) colour: vec4<f32>,
    // Markers: offset from the centre in pixels, and the radius.
    @location(1) local: vec2<f32>,
    @location(2) radius: f32,
};

@vertex
fn vs_mesh(@location(0) pos: vec2<f32>, @location(1) colour: vec4<f32>) -> VsOut {
    var o: VsOut;
    o.pos = view.view_proj * vec4<f32>(pos, 0.0, 1.0);
    o.colour = colour;
    o.local = vec2<f32>(0.0, 0.0);
    o.radius = 0.0;
    return o;
}

// Buildings extruded: z in metres.
@vertex
fn vs_mesh3(@location(0) pos: vec3<f32>, @location(1) colour: vec4<f32>) -> VsOut {
    var o: VsOut;
    o.pos = view.view_proj * vec4<f32>(pos, 1.0);
    o.colour = colour;
    o.local = vec2<f32>(0.0, 0.0);
    o.radius = 0.0;
    return o;
}

@fragment
fn fs_mesh(i: VsOut) -> @location(0) vec4<f32> {
    return i.colour;
}

@vertex
fn vs_marker(
    @builtin(vertex_index) vi: u32,
    @location(0) pos: vec2<f32>,
    @location(1) radius: f32,
    @location(2) colour: vec4<f32>,
) -> VsOut {
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, 1.0), vec2<f32>(-1.0, 1.0),
    );
    let c = corners[vi];
    let centre = view.view_proj * vec4<f32>(pos, 0.0, 1.0);
    let r = radius + 1.0;
    let off = c * r * 2.0 / view.viewport * centre.w;
    var o: VsOut;
    o.pos = vec4<f32>(centre.xy + off, centre.zw);
    o.colour = colour;
    o.local = c * r;
    o.radius = radius;
    return o;
}

// An anti-aliased disc with a white rim one pixel wide.
@fragment
fn fs_marker(i: VsOut) -> @location(0) vec4<f32> {
    let d = length(i.local);
    let outer = clamp(i.radius + 0.5 - d, 0.0, 1.0);
    let core = clamp(i.radius - 0.5 - d, 0.0, 1.0);
    let colour = mix(vec3<f32>(1.0, 1.0, 1.0), i.colour.rgb, core);
    return vec4<f32>(colour, outer * i.colour.a);
}

// The heatmap: a quad over the density raster's ground bounds; each
// fragment reads the density bilinearly and colours it like the CPU
// reference (inferno, transparent under 2% of the maximum, fading in).
struct Heat {
    // Scene metres of the output raster's top-left corner, metres per pixel.
    corner: vec2<f32>,
    px: f32,
    opacity: f32,
    size: vec2<u32>,      // output raster
    grid: vec2<u32>,      // the blurred bins
    map_scale: f32,       // output pixel centre → bin coordinate
    map_offset: f32,
    scale_max: f32,       // a fixed top of the scale; 0: the maximum in view
    _pad: f32,
};
@group(1) @binding(0) var<uniform> heat: Heat;
@group(1) @binding(1) var<storage, read> dens: array<f32>;
@group(1) @binding(2) var<storage, read> maxv: u32;
@group(1) @binding(3) var<storage, read> lut: array<vec4<f32>>;

struct HeatOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) ground: vec2<f32>,
};

@vertex
fn vs_heat(@builtin(vertex_index) vi: u32) -> HeatOut {
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 1.0), vec2<f32>(0.0, 1.0),
    );
    let c = corners[vi];
    let size = vec2<f32>(heat.size) * heat.px;
    let g = vec2<f32>(heat.corner.x + c.x * size.x, heat.corner.y - c.y * size.y);
    var o: HeatOut;
    o.pos = view.view_proj * vec4<f32>(g, 0.0, 1.0);
    o.ground = g;
    return o;
}

fn bin(x: u32, y: u32) -> f32 {
    return dens[y * heat.grid.x + x];
}

@fragment
fn fs_heat(i: HeatOut) -> @location(0) vec4<f32> {
    // The output pixel coordinate (centres at +0.5), then the bins exactly
    // as the CPU reference reads them.
    let o = vec2<f32>((i.ground.x - heat.corner.x) / heat.px, (heat.corner.y - i.ground.y) / heat.px);
    let gmax = vec2<f32>(heat.grid) - vec2<f32>(1.0, 1.0);
    let g = clamp(o * heat.map_scale + vec2<f32>(heat.map_offset, heat.map_offset), vec2<f32>(0.0, 0.0), gmax);
    let x0 = u32(g.x);
    let y0 = u32(g.y);
    let x1 = min(x0 + 1u, heat.grid.x - 1u);
    let y1 = min(y0 + 1u, heat.grid.y - 1u);
    let tx = g.x - f32(x0);
    let ty = g.y - f32(y0);
    let v = (bin(x0, y0) * (1.0 - tx) + bin(x1, y0) * tx) * (1.0 - ty)
          + (bin(x0, y1) * (1.0 - tx) + bin(x1, y1) * tx) * ty;
    var top = heat.scale_max;
    if (top <= 0.0) { top = bitcast<f32>(maxv); }
    // Transparent (not discarded: that costs more than blending nothing)
    // under 2% of the top and where there is no top.
    let t = clamp(v / max(top, 1e-30), 0.0, 1.0);
    let floor_t = 0.02;
    let c = lut[u32(round(t * 255.0))];
    let a = clamp((t - floor_t) / 0.2, 0.0, 1.0) * heat.opacity * f32(top > 0.0);
    return vec4<f32>(c.rgb, a);
}

