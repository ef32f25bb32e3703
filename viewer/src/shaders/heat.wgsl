// The incident heatmap on the GPU: the same Gaussian KDE as the CPU
// reference (gridgov-tiles kde): linear binning of points onto a raster,
// a separable Gaussian blur, bilinear reading at the output pixels, then
// the density maximum for the colour scale.

struct Params {
    origin: vec2<f32>,     // scene metres of padded bin (0, 0)'s centre: (left, top)
    inv_px: f32,           // 1 / bin pixel size in scene metres
    scale: f32,            // fixed point: weight units per point
    bw: u32,               // padded bins
    bh: u32,
    gw: u32,               // unpadded bins (the blur's output)
    gh: u32,
    pad: u32,
    radius: u32,
    count: u32,
    weighted: u32,
    ow: u32,               // output raster
    oh: u32,
    norm: f32,             // per km² after the blur
    map_scale: f32,        // output pixel centre → bin coordinate
    map_offset: f32,
    _pad0: f32,
    _pad1: f32,
    _pad2: f32,
};

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> points: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> bins: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> tmp: array<f32>;
@group(0) @binding(5) var<storage, read_write> grid: array<f32>;
@group(0) @binding(6) var<storage, read_write> dens: array<f32>;
@group(0) @binding(7) var<storage, read_write> maxv: atomic<u32>;
@group(0) @binding(8) var<storage, read> kernel: array<f32>;

fn add(i: u32, w: f32) {
    atomicAdd(&bins[i], u32(round(w * p.scale)));
}

@compute @workgroup_size(256)
fn bin(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let k = id.x + id.y * nw.x * 256u;
    if (k >= p.count) { return; }
    let q = points[k];
    var w = 1.0;
    if (p.weighted != 0u) { w = weights[k]; }
    let fx = (q.x - p.origin.x) * p.inv_px;
    let fy = (p.origin.y - q.y) * p.inv_px;
    if (!(fx >= 0.0 && fy >= 0.0)) { return; }
    let ix = u32(fx);
    let iy = u32(fy);
    if (ix + 1u >= p.bw || iy + 1u >= p.bh) { return; }
    let tx = fx - f32(ix);
    let ty = fy - f32(iy);
    let i = iy * p.bw + ix;
    add(i, w * (1.0 - tx) * (1.0 - ty));
    add(i + 1u, w * tx * (1.0 - ty));
    add(i + p.bw, w * (1.0 - tx) * ty);
    add(i + p.bw + 1u, w * tx * ty);
}

// Horizontal: every padded row, unpadded columns.
@compute @workgroup_size(16, 16)
fn blur_h(@builtin(global_invocation_id) id: vec3<u32>) {
    let c = id.x;
    let r = id.y;
    if (c >= p.gw || r >= p.bh) { return; }
    let centre = r * p.bw + c + p.pad;
    var acc = f32(atomicLoad(&bins[centre])) * kernel[0];
    for (var j = 1u; j <= p.radius; j++) {
        acc += (f32(atomicLoad(&bins[centre - j])) + f32(atomicLoad(&bins[centre + j]))) * kernel[j];
    }
    tmp[r * p.gw + c] = acc / p.scale;
}

// Vertical: unpadded rows, into the density on the bins.
@compute @workgroup_size(16, 16)
fn blur_v(@builtin(global_invocation_id) id: vec3<u32>) {
    let c = id.x;
    let r = id.y;
    if (c >= p.gw || r >= p.gh) { return; }
    let centre = r + p.pad;
    var acc = tmp[centre * p.gw + c] * kernel[0];
    for (var j = 1u; j <= p.radius; j++) {
        acc += (tmp[(centre - j) * p.gw + c] + tmp[(centre + j) * p.gw + c]) * kernel[j];
    }
    grid[r * p.gw + c] = acc * p.norm;
}

var<workgroup> wmax: atomic<u32>;

// Folds a non-negative value into the maximum: per workgroup first, then
// one global atomic per workgroup (a global atomic per pixel serialises).
// Non-negative floats order like their bits.
fn fold_max(v: f32, local: u32) {
    atomicMax(&wmax, bitcast<u32>(max(v, 0.0)));
    workgroupBarrier();
    if (local == 0u) {
        atomicMax(&maxv, atomicLoad(&wmax));
    }
}

// The output raster: bilinear on the bins, and the maximum.
@compute @workgroup_size(16, 16)
fn resample(@builtin(global_invocation_id) id: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let c = id.x;
    let r = id.y;
    let inside = c < p.ow && r < p.oh;
    var v = 0.0;
    if (inside) {
        v = sample_at(c, r);
        dens[r * p.ow + c] = v;
    }
    fold_max(v, li);
}

// The maximum over the bins that fall inside the output (when the output
// raster itself is not needed: the map reads the bins directly).
@compute @workgroup_size(16, 16)
fn grid_max(@builtin(global_invocation_id) id: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let c = id.x;
    let r = id.y;
    var v = 0.0;
    if (c < p.gw && r < p.gh) {
        // The output pixel this bin sits on.
        let ox = (f32(c) - p.map_offset) / p.map_scale - 0.5;
        let oy = (f32(r) - p.map_offset) / p.map_scale - 0.5;
        if (ox >= -0.5 && oy >= -0.5 && ox <= f32(p.ow) - 0.5 && oy <= f32(p.oh) - 0.5) {
            v = grid[r * p.gw + c];
        }
    }
    fold_max(v, li);
}

fn sample_at(c: u32, r: u32) -> f32 {
    let gx = clamp((f32(c) + 0.5) * p.map_scale + p.map_offset, 0.0, f32(p.gw - 1u));
    let gy = clamp((f32(r) + 0.5) * p.map_scale + p.map_offset, 0.0, f32(p.gh - 1u));
    let x0 = u32(gx);
    let y0 = u32(gy);
    let x1 = min(x0 + 1u, p.gw - 1u);
    let y1 = min(y0 + 1u, p.gh - 1u);
    let tx = gx - f32(x0);
    let ty = gy - f32(y0);
    return (grid[y0 * p.gw + x0] * (1.0 - tx) + grid[y0 * p.gw + x1] * tx) * (1.0 - ty)
         + (grid[y1 * p.gw + x0] * (1.0 - tx) + grid[y1 * p.gw + x1] * tx) * ty;
}
