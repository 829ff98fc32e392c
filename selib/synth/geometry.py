"""3-D parts, a pinhole camera and a z-buffer rasteriser for the synthetic furniture renderer.

Every part is a *convex* polyhedron (a box, a tapered prism, an n-gon "cylinder", a rounded box),
so back-face culling leaves non-overlapping front faces per part and the z-buffer only has to
arbitrate *between* parts. That keeps the renderer correct from every view (no leg drawn through
a seat) at a cost of a few vectorised NumPy operations per part.

World frame: metres, x to the furniture's right, y up (floor at y = 0), +z out of its front.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

_SHIFT = 3  # sub-pixel bits for cv2.fillConvexPoly: smoother edges after down-sampling
_SCALE = 1 << _SHIFT


@dataclass
class Part:
    """A convex polyhedron with one material; faces are oriented outward on construction."""

    verts: np.ndarray                      # (N, 3) float64
    faces: list[np.ndarray]                # vertex indices per face
    material: str = "wood"
    albedo: float = 0.5
    tag: str = ""                          # "leg", "seat", ... for tests and debugging
    normals: np.ndarray = field(init=False, repr=False)
    centers: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.verts = np.asarray(self.verts, dtype=np.float64)
        faces = [np.asarray(f, dtype=np.int64) for f in self.faces]
        normals, centers = _newell_normals(self.verts, faces)
        flip = np.einsum("ij,ij->i", normals, centers - self.verts.mean(axis=0)) < 0
        # make every face point outward (the part is convex)
        self.faces = [f[::-1].copy() if fl else f for f, fl in zip(faces, flip)]
        self.normals = np.where(flip[:, None], -normals, normals)
        self.centers = centers

    def transformed(self, rot: np.ndarray | None = None, offset=(0.0, 0.0, 0.0)) -> "Part":
        """A rotated (about the origin) then translated copy."""
        v = self.verts if rot is None else self.verts @ np.asarray(rot).T
        return Part(v + np.asarray(offset, dtype=np.float64), self.faces, self.material,
                    self.albedo, self.tag)


def _newell_normals(verts: np.ndarray, faces: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals and centres of polygons (Newell's method, robust to collinear vertices), vectorised.

    Faces are padded to a common length by repeating their last vertex: a zero-length edge
    adds nothing to Newell's sums, so the result is exact.
    """
    m = max(len(f) for f in faces)
    idx = np.array([np.concatenate([f, np.full(m - len(f), f[-1])]) for f in faces])
    p = verts[idx]                      # (F, m, 3)
    q = np.roll(p, -1, axis=1)
    n = np.stack([
        np.sum((p[..., 1] - q[..., 1]) * (p[..., 2] + q[..., 2]), axis=1),
        np.sum((p[..., 2] - q[..., 2]) * (p[..., 0] + q[..., 0]), axis=1),
        np.sum((p[..., 0] - q[..., 0]) * (p[..., 1] + q[..., 1]), axis=1),
    ], axis=1)
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    lens = np.array([len(f) for f in faces])
    centers = (p.sum(axis=1) - (m - lens)[:, None] * p[:, -1]) / lens[:, None]
    return np.where(norm > 0, n / np.where(norm > 0, norm, 1), [0.0, 1.0, 0.0]), centers


# --------------------------------------------------------------------------- rotations
def rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def rot_align_y(d: np.ndarray) -> np.ndarray:
    """Rotation taking +y onto the unit vector d (Rodrigues)."""
    d = np.asarray(d, dtype=np.float64)
    d = d / np.linalg.norm(d)
    y = np.array([0.0, 1.0, 0.0])
    v = np.cross(y, d)
    c = float(np.dot(y, d))
    if np.linalg.norm(v) < 1e-9:
        return np.eye(3) if c > 0 else rot_x(np.pi)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx * (1.0 / (1.0 + c))


# --------------------------------------------------------------------------- builders
def prism(profile: np.ndarray, height: float, taper: float = 1.0, **kw) -> Part:
    """Extrude a convex 2-D profile (x, z) along +y from 0 to `height`; the top is scaled by `taper`."""
    prof = np.asarray(profile, dtype=np.float64)
    n = len(prof)
    bottom = np.column_stack([prof[:, 0], np.zeros(n), prof[:, 1]])
    top = np.column_stack([prof[:, 0] * taper, np.full(n, height), prof[:, 1] * taper])
    verts = np.vstack([bottom, top])
    faces = [np.arange(n), np.arange(n, 2 * n)]
    faces += [np.array([i, (i + 1) % n, n + (i + 1) % n, n + i]) for i in range(n)]
    return Part(verts, faces, **kw)


def ngon(n: int, rx: float, rz: float | None = None, phase: float = 0.0) -> np.ndarray:
    t = phase + np.arange(n) * 2 * np.pi / n
    return np.column_stack([rx * np.cos(t), (rx if rz is None else rz) * np.sin(t)])


def rounded_rect(w: float, d: float, r: float, k: int = 3) -> np.ndarray:
    """Convex rounded rectangle (centred) with k segments per corner; r is clipped to fit."""
    r = max(0.0, min(r, 0.49 * w, 0.49 * d))
    if r < 1e-4:
        return np.array([[-w / 2, -d / 2], [w / 2, -d / 2], [w / 2, d / 2], [-w / 2, d / 2]])
    pts = []
    for cx, cz, a0 in ((w / 2 - r, d / 2 - r, 0.0), (-w / 2 + r, d / 2 - r, np.pi / 2),
                       (-w / 2 + r, -d / 2 + r, np.pi), (w / 2 - r, -d / 2 + r, 1.5 * np.pi)):
        for t in np.linspace(a0, a0 + np.pi / 2, k + 1):
            pts.append((cx + r * np.cos(t), cz + r * np.sin(t)))
    return np.array(pts)


def box(x0, x1, y0, y1, z0, z1, **kw) -> Part:
    """Axis-aligned box from its extents."""
    p = prism([[x0, z0], [x1, z0], [x1, z1], [x0, z1]], y1 - y0, **kw)
    p.verts[:, 1] += y0
    return Part(p.verts, p.faces, p.material, p.albedo, p.tag)


def rounded_box(center, size, radius: float, axis: str = "x", k: int = 3, **kw) -> Part:
    """Box of `size` (sx, sy, sz) whose four edges parallel to `axis` are rounded (cushions, arms)."""
    sx, sy, sz = size
    if axis == "x":    # profile in (z, y), extruded along x
        prof = rounded_rect(sz, sy, radius, k)
        p = prism(prof, sx, **kw)       # profile (x<-z, z<-y), length along y<-x
        v = p.verts
        verts = np.column_stack([v[:, 1] - sx / 2, v[:, 2], v[:, 0]])
    elif axis == "z":  # profile in (x, y), extruded along z
        prof = rounded_rect(sx, sy, radius, k)
        p = prism(prof, sz, **kw)
        v = p.verts
        verts = np.column_stack([v[:, 0], v[:, 2], v[:, 1] - sz / 2])
    else:              # axis y: profile in (x, z)
        prof = rounded_rect(sx, sz, radius, k)
        p = prism(prof, sy, **kw)
        verts = p.verts - np.array([0.0, sy / 2, 0.0])
    return Part(verts + np.asarray(center, dtype=np.float64), p.faces, p.material, p.albedo, p.tag)


def rod(p0, p1, r0: float, r1: float | None = None, sides: int = 8, square: bool = False,
        **kw) -> Part:
    """A cylinder (n-gon) or square bar from p0 to p1 with radius r0 tapering to r1."""
    p0, p1 = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    d = p1 - p0
    length = float(np.linalg.norm(d))
    r1 = r0 if r1 is None else r1
    prof = ngon(4, r0 * np.sqrt(2), phase=np.pi / 4) if square else ngon(sides, r0)
    part = prism(prof, length, taper=r1 / r0 if r0 > 0 else 1.0, **kw)
    return part.transformed(rot_align_y(d), p0)


def post(bottom, top, r_bottom: float, r_top: float, sides: int = 8, square: bool = False,
         **kw) -> Part:
    """A leg: horizontal end caps (so a splayed leg stands flat on the floor) from bottom to top.

    The sheared, tapered prism is the convex hull of its two parallel caps, hence convex.
    """
    b, t = np.asarray(bottom, dtype=np.float64), np.asarray(top, dtype=np.float64)
    prof = ngon(4, np.sqrt(2), phase=np.pi / 4) if square else ngon(sides, 1.0)
    n = len(prof)
    lower = np.column_stack([b[0] + r_bottom * prof[:, 0], np.full(n, b[1]), b[2] + r_bottom * prof[:, 1]])
    upper = np.column_stack([t[0] + r_top * prof[:, 0], np.full(n, t[1]), t[2] + r_top * prof[:, 1]])
    faces = [np.arange(n), np.arange(n, 2 * n)]
    faces += [np.array([i, (i + 1) % n, n + (i + 1) % n, n + i]) for i in range(n)]
    return Part(np.vstack([lower, upper]), faces, **kw)


# --------------------------------------------------------------------------- camera
@dataclass
class Camera:
    """Pinhole camera looking from `pos` at `target`; image v grows downward."""

    pos: np.ndarray
    target: np.ndarray
    focal: float            # pixels
    cx: float
    cy: float
    width: int
    height: int
    roll: float = 0.0

    def __post_init__(self) -> None:
        self.pos = np.asarray(self.pos, dtype=np.float64)
        self.target = np.asarray(self.target, dtype=np.float64)
        f = self.target - self.pos
        f /= np.linalg.norm(f)
        r = np.cross(f, [0.0, 1.0, 0.0])
        r /= np.linalg.norm(r)
        u = np.cross(r, f)
        c, s = np.cos(self.roll), np.sin(self.roll)
        r, u = c * r + s * u, -s * r + c * u
        self.R = np.stack([r, u, f])  # world -> camera (x right, y up, z forward)

    def to_cam(self, p: np.ndarray) -> np.ndarray:
        return (np.asarray(p) - self.pos) @ self.R.T

    def project(self, p: np.ndarray) -> np.ndarray:
        """World points (N, 3) -> pixel coordinates (N, 2); points must be in front of the camera."""
        c = self.to_cam(p)
        z = np.maximum(c[:, 2], 1e-6)
        return np.column_stack([self.cx + self.focal * c[:, 0] / z,
                                self.cy - self.focal * c[:, 1] / z])

    def scaled(self, s: float) -> "Camera":
        """The same view at s times the resolution (for supersampling)."""
        return Camera(self.pos, self.target, self.focal * s, self.cx * s, self.cy * s,
                      int(round(self.width * s)), int(round(self.height * s)), self.roll)

    def rays(self) -> np.ndarray:
        """World-space ray directions (H, W, 3), unnormalised, through pixel centres."""
        u = (np.arange(self.width, dtype=np.float32) + 0.5 - self.cx) / self.focal
        v = -(np.arange(self.height, dtype=np.float32) + 0.5 - self.cy) / self.focal
        R = self.R.astype(np.float32)
        return (u[None, :, None] * R[0] + v[:, None, None] * R[1] + R[2])


# --------------------------------------------------------------------------- rasteriser
def rasterize(parts: list[Part], cam: Camera) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Z-buffer the parts: returns (face_id image, inverse-depth image, face table).

    face_id is -1 for background, else an index into the face table of (part index, face index).
    Inverse depth 1/z is affine in screen space, so each face's depth is evaluated exactly from
    its plane; nearer surfaces win regardless of drawing order.
    """
    H, W = cam.height, cam.width
    ids = np.full((H, W), -1, dtype=np.int32)
    wbuf = np.zeros((H, W), dtype=np.float32)          # 1/z; 0 = infinitely far
    table: list[tuple[int, int]] = []
    for pi, part in enumerate(parts):
        vc = cam.to_cam(part.verts)
        if np.any(vc[:, 2] < 1e-3):
            continue  # behind / at the camera: never happens for sensible framings
        uv = np.column_stack([cam.cx + cam.focal * vc[:, 0] / vc[:, 2],
                              cam.cy - cam.focal * vc[:, 1] / vc[:, 2]])
        x0, y0 = np.floor(uv.min(axis=0)).astype(int)
        x1, y1 = np.ceil(uv.max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
        if x0 >= x1 or y0 >= y1:
            continue
        view = part.centers - cam.pos
        front = np.einsum("ij,ij->i", part.normals, view) < 0
        if not front.any():
            continue
        local = np.zeros((y1 - y0, x1 - x0), dtype=np.int32)   # 1 + front-face index
        coef = [np.zeros(5)]
        inv_z = 1.0 / vc[:, 2]
        for k, fi in enumerate(np.flatnonzero(front)):
            face = part.faces[fi]
            poly = np.round((uv[face] - [x0 + 0.5, y0 + 0.5]) * _SCALE).astype(np.int32)
            cv2.fillConvexPoly(local, poly, k + 1, lineType=cv2.LINE_8, shift=_SHIFT)
            # plane n.p = d in camera coords; 1/z = (n . ray) / d with ray = ((u-cx)/f, -(v-cy)/f, 1)
            n = cam.R @ part.normals[fi]
            d = float(n @ vc[face[0]])
            if abs(d) < 1e-9:
                coef.append(np.zeros(5))
                continue
            a = n[0] / (cam.focal * d)
            b = -n[1] / (cam.focal * d)
            c = (n[2] - n[0] * cam.cx / cam.focal + n[1] * cam.cy / cam.focal) / d
            # relative to the box's corner pixel centre, so float32 keeps its precision
            # the face's own depth range: pixels on the rim of a nearly edge-on face would
            # otherwise extrapolate its plane far beyond the face (legs poking through seats)
            fw = inv_z[face]
            coef.append(np.array([a, b, c + a * (x0 + 0.5) + b * (y0 + 0.5), fw.min(), fw.max()]))
            table.append((pi, fi))
        # evaluate each pixel's own face plane over the bounding box, keep it where nearer
        coef_arr = np.array(coef, dtype=np.float32)
        gid = np.full(len(coef), -1, dtype=np.int32)
        valid = np.flatnonzero(np.any(coef_arr != 0, axis=1))
        gid[valid] = len(table) - len(valid) + np.arange(len(valid), dtype=np.int32)
        c = coef_arr[local]
        xs = np.arange(x1 - x0, dtype=np.float32)
        ys = np.arange(y1 - y0, dtype=np.float32)[:, None]
        w = np.clip(c[..., 0] * xs + c[..., 1] * ys + c[..., 2], c[..., 3], c[..., 4])
        zs, ids_s = wbuf[y0:y1, x0:x1], ids[y0:y1, x0:x1]
        win = (local > 0) & (w > zs) & (gid[local] >= 0)
        np.copyto(zs, w, where=win)
        np.copyto(ids_s, gid[local], where=win)
    return ids, wbuf, table
