//! The camera over the scene: where it looks, how close, rotated and
//! tilted, and the maps between scene metres and screen pixels.

/// A view of the scene. `tilt_deg = 0` looks straight down (the plan
/// map); larger tilts look towards the horizon (the 2.5D real view).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    /// Scene metres at the centre of the screen.
    pub centre: [f32; 2],
    /// Ground metres per pixel at the centre of the screen.
    pub metres_per_px: f32,
    /// The bearing at the top of the screen, degrees clockwise from north
    /// (0: north up; 90: east up).
    pub rotation_deg: f32,
    /// Tilt from straight down, degrees (0 to 60).
    pub tilt_deg: f32,
    /// Screen size in pixels.
    pub width: u32,
    /// Screen height in pixels.
    pub height: u32,
}

/// Vertical field of view of the perspective camera.
const FOV_Y: f32 = 0.6435; // 36.87°: tan(fov/2) = 1/3

type Mat4 = [[f32; 4]; 4];

fn mul(a: &Mat4, b: &Mat4) -> Mat4 {
    let mut m = [[0f32; 4]; 4];
    for (c, col) in m.iter_mut().enumerate() {
        for (r, v) in col.iter_mut().enumerate() {
            *v = (0..4).map(|k| a[k][r] * b[c][k]).sum();
        }
    }
    m
}

impl Camera {
    /// A north-up, untilted camera showing `bounds` (scene metres) whole
    /// within `width × height` pixels, with `margin` pixels around.
    ///
    /// ```
    /// use gridgov_viewer::Camera;
    /// let c = Camera::fit([-100.0, -50.0, 100.0, 50.0], 400, 400, 0);
    /// assert_eq!(c.metres_per_px, 0.5);
    /// assert_eq!(c.centre, [0.0, 0.0]);
    /// ```
    pub fn fit(bounds: [f32; 4], width: u32, height: u32, margin: u32) -> Camera {
        let w = (width.saturating_sub(2 * margin)).max(1) as f32;
        let h = (height.saturating_sub(2 * margin)).max(1) as f32;
        let mpp = ((bounds[2] - bounds[0]) / w).max((bounds[3] - bounds[1]) / h);
        Camera {
            centre: [
                f32::midpoint(bounds[0], bounds[2]),
                f32::midpoint(bounds[1], bounds[3]),
            ],
            metres_per_px: if mpp > 0.0 { mpp } else { 1.0 },
            rotation_deg: 0.0,
            tilt_deg: 0.0,
            width,
            height,
        }
    }

    /// Like [`Camera::fit`], with margins `[left, top, right, bottom]` in
    /// pixels kept free (for panels), the view centred in what is left.
    ///
    /// ```
    /// use gridgov_viewer::Camera;
    /// let c = Camera::fit_margins([0.0, 0.0, 100.0, 100.0], 300, 100, [0, 0, 200, 0]);
    /// assert_eq!(c.metres_per_px, 1.0);
    /// let p = c.to_screen([50.0, 50.0]);
    /// assert!((p[0] - 50.0).abs() < 1e-3 && (p[1] - 50.0).abs() < 1e-3);
    /// ```
    pub fn fit_margins(bounds: [f32; 4], width: u32, height: u32, m: [u32; 4]) -> Camera {
        let iw = width.saturating_sub(m[0] + m[2]).max(1);
        let ih = height.saturating_sub(m[1] + m[3]).max(1);
        let mut c = Camera::fit(bounds, iw, ih, 0);
        c.width = width;
        c.height = height;
        // Shift the centre so that the inner box's centre lands on it.
        let dx = (m[2] as f32 - m[0] as f32) / 2.0 * c.metres_per_px;
        let dy = (m[1] as f32 - m[3] as f32) / 2.0 * c.metres_per_px;
        c.centre = [c.centre[0] + dx, c.centre[1] + dy];
        c
    }

    /// The distance from the eye to the centre of the screen (metres).
    fn distance(&self) -> f32 {
        // At the centre, `height` pixels span `2·d·tan(fov/2)` metres.
        self.metres_per_px * self.height as f32 / (2.0 * (FOV_Y / 2.0).tan())
    }

    /// Scene metres (x east, y north, z up) → clip space, column-major.
    pub fn view_proj(&self) -> Mat4 {
        let d = self.distance();
        let (w, h) = (self.width.max(1) as f32, self.height.max(1) as f32);
        if self.tilt_deg.abs() < 1e-3 {
            // Straight down: orthographic, so the plan map has one scale.
            let (s, c) = self.rotation_deg.to_radians().sin_cos();
            let sx = 2.0 / (w * self.metres_per_px);
            let sy = 2.0 / (h * self.metres_per_px);
            let [cx, cy] = self.centre;
            // x' = c·(x−cx) − s·(y−cy) ; y' = s·(x−cx) + c·(y−cy)
            let tx = -(c * cx - s * cy);
            let ty = -(s * cx + c * cy);
            return [
                [c * sx, s * sy, 0.0, 0.0],
                [-s * sx, c * sy, 0.0, 0.0],
                [0.0, 0.0, -1.0 / (d * 4.0), 0.0],
                [tx * sx, ty * sy, 0.5, 1.0],
            ];
        }
        let tilt = self.tilt_deg.clamp(0.0, 60.0).to_radians();
        let rot = self.rotation_deg.to_radians();
        // The eye: back from the centre against the view direction.
        let fwd = [rot.sin() * tilt.sin(), rot.cos() * tilt.sin(), -tilt.cos()];
        let eye = [
            self.centre[0] - fwd[0] * d,
            self.centre[1] - fwd[1] * d,
            -fwd[2] * d,
        ];
        let up0 = [rot.sin(), rot.cos(), 0.0];
        // right = fwd × up0, up = right × fwd
        let cross = |a: [f32; 3], b: [f32; 3]| {
            [
                a[1] * b[2] - a[2] * b[1],
                a[2] * b[0] - a[0] * b[2],
                a[0] * b[1] - a[1] * b[0],
            ]
        };
        let norm = |a: [f32; 3]| {
            let l = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
            [a[0] / l, a[1] / l, a[2] / l]
        };
        let right = norm(cross(fwd, up0));
        let up = cross(right, fwd);
        let dot = |a: [f32; 3], b: [f32; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        let view: Mat4 = [
            [right[0], up[0], -fwd[0], 0.0],
            [right[1], up[1], -fwd[1], 0.0],
            [right[2], up[2], -fwd[2], 0.0],
            [-dot(right, eye), -dot(up, eye), dot(fwd, eye), 1.0],
        ];
        let f = 1.0 / (FOV_Y / 2.0).tan();
        let (near, far) = (d * 0.05, d * 20.0);
        let proj: Mat4 = [
            [f * h / w, 0.0, 0.0, 0.0],
            [0.0, f, 0.0, 0.0],
            [0.0, 0.0, far / (near - far), -1.0],
            [0.0, 0.0, near * far / (near - far), 0.0],
        ];
        mul(&proj, &view)
    }

    /// Screen pixel (from the top left) of a ground point.
    ///
    /// ```
    /// use gridgov_viewer::Camera;
    /// let c = Camera::fit([-100.0, -100.0, 100.0, 100.0], 200, 200, 0);
    /// assert_eq!(c.to_screen([0.0, 0.0]), [100.0, 100.0]);
    /// let p = c.to_screen([-100.0, 100.0]);
    /// assert!(p[0].abs() < 1e-3 && p[1].abs() < 1e-3);
    /// ```
    pub fn to_screen(&self, p: [f32; 2]) -> [f32; 2] {
        let m = self.view_proj();
        let v = [p[0], p[1], 0.0, 1.0];
        let clip: Vec<f32> = (0..4)
            .map(|r| (0..4).map(|k| m[k][r] * v[k]).sum())
            .collect();
        let (x, y) = (clip[0] / clip[3], clip[1] / clip[3]);
        [
            f32::midpoint(x, 1.0) * self.width as f32,
            (1.0 - y) / 2.0 * self.height as f32,
        ]
    }

    /// The ground point under a screen pixel (the inverse of
    /// [`Camera::to_screen`]), by bisection-free Newton steps on the
    /// projection; exact for the plan view.
    ///
    /// ```
    /// use gridgov_viewer::Camera;
    /// let mut c = Camera::fit([-100.0, -100.0, 100.0, 100.0], 200, 200, 0);
    /// c.rotation_deg = 30.0;
    /// c.tilt_deg = 40.0;
    /// let g = c.to_ground(c.to_screen([20.0, -35.0]));
    /// assert!((g[0] - 20.0).abs() < 0.01 && (g[1] + 35.0).abs() < 0.01);
    /// ```
    pub fn to_ground(&self, s: [f32; 2]) -> [f32; 2] {
        // Newton's method on to_screen(g) = s with a numeric Jacobian:
        // the map is smooth and near-linear over a screen.
        let mut g = self.centre;
        for _ in 0..12 {
            let f = self.to_screen(g);
            let r = [f[0] - s[0], f[1] - s[1]];
            if r[0].abs() < 1e-3 && r[1].abs() < 1e-3 {
                break;
            }
            let h = self.metres_per_px.max(1e-3);
            let fx = self.to_screen([g[0] + h, g[1]]);
            let fy = self.to_screen([g[0], g[1] + h]);
            let j = [
                [(fx[0] - f[0]) / h, (fy[0] - f[0]) / h],
                [(fx[1] - f[1]) / h, (fy[1] - f[1]) / h],
            ];
            let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
            if det.abs() < 1e-12 {
                break;
            }
            g[0] -= (j[1][1] * r[0] - j[0][1] * r[1]) / det;
            g[1] -= (-j[1][0] * r[0] + j[0][0] * r[1]) / det;
        }
        g
    }

    /// The ground bounds of the screen `[min_x, min_y, max_x, max_y]`.
    pub fn ground_bounds(&self) -> [f32; 4] {
        let (w, h) = (self.width as f32, self.height as f32);
        let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
        for s in [[0.0, 0.0], [w, 0.0], [0.0, h], [w, h], [w / 2.0, 0.0]] {
            let g = self.to_ground(s);
            b = [
                b[0].min(g[0]),
                b[1].min(g[1]),
                b[2].max(g[0]),
                b[3].max(g[1]),
            ];
        }
        b
    }
}
