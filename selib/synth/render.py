"""Scene composition: camera, background, lighting, shading, shadows, clutter and camera effects.

One call to `render_scene` turns an RNG into a grey-level photo of one piece of furniture.
Everything is drawn at a modest working resolution (2x supersampled for anti-aliasing) and
resized to the sampled output size at the end: what a CNN sees at 64-224 px is unchanged, and
the default 1,200-image set renders in well under a minute on two cores.
"""
from __future__ import annotations

import string

import cv2
import numpy as np

from selib.synth.furniture import BUILDERS, MATERIALS
from selib.synth.geometry import Camera, Part, box, ngon, prism, rasterize, rod

RENDER_SHORT = 320   # working short side before the final resize
SS = 2               # supersampling factor (anti-aliasing)

_MAT_NAMES = list(MATERIALS)
# material -> (fine noise, low-frequency noise, grain streaks, specular strength, shininess)
_MAT_LOOK = {
    "wood": (0.03, 0.05, 0.14, 0.04, 8),
    "fabric": (0.05, 0.04, 0.0, 0.0, 1),
    "leather": (0.02, 0.08, 0.0, 0.18, 12),
    "metal": (0.02, 0.10, 0.0, 0.55, 25),
    "blackmetal": (0.02, 0.03, 0.0, 0.25, 20),
    "plastic": (0.01, 0.04, 0.0, 0.15, 15),
    "mesh": (0.18, 0.05, 0.0, 0.0, 1),
    "stone": (0.09, 0.08, 0.0, 0.02, 4),
}
_LOOK = np.array([_MAT_LOOK[m] for m in _MAT_NAMES], dtype=np.float64)


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


# --------------------------------------------------------------------------- camera
def sample_view(rng: np.random.Generator) -> tuple[float, float]:
    """Azimuth (deg, 0 = front) all around but favouring front and three-quarter; elevation 0-40."""
    r = rng.random()
    if r < 0.40:
        az = _u(rng, -30, 30)
    elif r < 0.78:
        az = _u(rng, 30, 70) * rng.choice([-1, 1])
    elif r < 0.94:
        az = _u(rng, 70, 110) * rng.choice([-1, 1])
    else:
        az = _u(rng, 110, 180) * rng.choice([-1, 1])
    el = 40.0 * float(rng.beta(1.6, 2.0))
    return float(az), el


def _fit_camera(verts: np.ndarray, az: float, el: float, vfov: float, fill: float,
                width: int, height: int, rng: np.random.Generator, offset: tuple[float, float],
                roll: float) -> Camera:
    """Place the camera on the (az, el) ray so the object's projection spans `fill` of the frame."""
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    size = hi - lo
    target = (lo + hi) / 2 + (rng.uniform(-0.08, 0.08, 3) * size)
    a, e = np.radians(az), np.radians(el)
    direction = np.array([np.sin(a) * np.cos(e), np.sin(e), np.cos(a) * np.cos(e)])
    focal = (height / 2) / np.tan(np.radians(vfov) / 2)
    d = 1.2 * np.linalg.norm(size) / np.tan(np.radians(vfov) / 2)
    cam = None
    for _ in range(4):
        cam = Camera(target + d * direction, target, focal, width / 2, height / 2, width, height, roll)
        uv = cam.project(verts)
        ext = max((uv[:, 0].max() - uv[:, 0].min()) / width, (uv[:, 1].max() - uv[:, 1].min()) / height)
        # never inside or grazing the object: the nearest vertex stays a fair way off
        near = float(cam.to_cam(verts)[:, 2].min())
        d = max(d * ext / fill, d - near + 0.45 * d)
    uv = cam.project(verts)
    ex = (uv[:, 0].max() - uv[:, 0].min()) / width
    ey = (uv[:, 1].max() - uv[:, 1].min()) / height
    bu, bv = (uv[:, 0].max() + uv[:, 0].min()) / 2, (uv[:, 1].max() + uv[:, 1].min()) / 2
    # off-centre framing, mostly keeping the object in frame (slight crops allowed)
    du = offset[0] * max(0.0, 1.0 - ex + 0.04) / 2 * width
    dv = offset[1] * max(0.0, 1.0 - ey + 0.04) / 2 * height
    return Camera(cam.pos, cam.target, focal, cam.cx + (width / 2 + du - bu),
                  cam.cy + (height / 2 + dv - bv), width, height, roll)


# --------------------------------------------------------------------------- clutter
def _clutter(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray,
             az: float) -> tuple[list[Part], str]:
    """A plant, box, lamp or side table beside or behind the furniture (as seen from the camera,
    so it rarely hides the furniture): real rooms are not empty."""
    kind = str(rng.choice(["plant", "box", "lamp", "table"]))
    a = np.radians(az)
    toward = np.array([np.sin(a), np.cos(a)])            # floor direction to the camera
    side = np.array([toward[1], -toward[0]])
    reach = 0.5 * float(np.hypot(hi[0] - lo[0], hi[2] - lo[2]))
    c = np.array([(lo[0] + hi[0]) / 2, (lo[2] + hi[2]) / 2])
    p = (c + side * rng.choice([-1, 1]) * (reach + _u(rng, 0.2, 0.9))
         - toward * _u(rng, -0.2, 1.0))
    x, z = float(p[0]), float(p[1])
    alb = _u(rng, 0.1, 0.85)
    if kind == "plant":
        r, h = _u(rng, 0.1, 0.2), _u(rng, 0.2, 0.45)
        parts = [prism(ngon(10, r * 0.75), h, taper=1 / 0.75, material="stone", albedo=alb)]
        for _ in range(int(rng.integers(3, 7))):
            leaf = rod((0, h, 0), (_u(rng, -0.35, 0.35), h + _u(rng, 0.2, 0.7), _u(rng, -0.3, 0.3)),
                       _u(rng, 0.03, 0.08), 0.01, sides=5, material="fabric", albedo=_u(rng, 0.05, 0.35))
            parts.append(leaf)
    elif kind == "box":
        w, hh, d = _u(rng, 0.3, 0.9), _u(rng, 0.3, 1.2), _u(rng, 0.3, 0.5)
        parts = [box(-w / 2, w / 2, 0, hh, -d / 2, d / 2, material="wood", albedo=alb)]
    elif kind == "lamp":
        hh = _u(rng, 1.1, 1.7)
        parts = [rod((0, 0, 0), (0, 0.03, 0), 0.15, sides=10, material="metal", albedo=alb),
                 rod((0, 0.03, 0), (0, hh, 0), 0.012, material="metal", albedo=alb),
                 rod((0, hh - 0.05, 0), (0, hh + 0.25, 0), 0.22, 0.14, sides=12,
                     material="fabric", albedo=_u(rng, 0.6, 0.95))]
    else:
        r, hh = _u(rng, 0.2, 0.35), _u(rng, 0.45, 0.7)
        parts = [rod((0, 0, 0), (0, hh - 0.03, 0), 0.03, sides=8, material="wood", albedo=alb),
                 rod((0, 0, 0), (0, 0.02, 0), r * 0.6, sides=12, material="wood", albedo=alb),
                 rod((0, hh - 0.03, 0), (0, hh, 0), r, sides=14, material="wood", albedo=alb)]
    return [p.transformed(None, (x, 0, z)) for p in parts], kind


# --------------------------------------------------------------------------- background
def _noise(rng: np.random.Generator, shape: tuple[int, int], scale: int, sx: int | None = None) -> np.ndarray:
    """Smooth-ish noise: white noise at 1/scale resolution (1/sx across), bicubically upsampled."""
    h, w = shape
    sx = scale if sx is None else sx
    small = rng.standard_normal((max(2, h // scale), max(2, w // sx)), dtype=np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _background(rng: np.random.Generator, cam: Camera, lo: np.ndarray, hi: np.ndarray,
                kind: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """Floor and wall (or a studio sweep, or an outdoor scene) seen through `cam`.

    Returns (intensity image, floor mask, params). The floor mask says where shadows may fall.
    """
    H, W = cam.height, cam.width
    rays = cam.rays()
    pos = cam.pos.astype(np.float32)
    ry = rays[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        tf = np.where(ry < -1e-6, -pos[1] / ry, np.inf).astype(np.float32)
    # wall: a vertical plane behind the object, turned towards the camera (+- 40 deg)
    cdir = np.array([cam.pos[0] - (lo[0] + hi[0]) / 2, 0.0, cam.pos[2] - (lo[2] + hi[2]) / 2])
    ang = np.arctan2(cdir[0], cdir[2]) + np.radians(_u(rng, -40, 40))
    nw = np.array([np.sin(ang), 0.0, np.cos(ang)], dtype=np.float32)
    reach = float(np.max(np.abs(np.array([lo[0], hi[0], lo[2], hi[2]]))))
    far = kind == "outdoor"
    wall_d = (_u(rng, 4.0, 12.0) if far else _u(rng, 0.1, 1.6)) + reach
    c0 = np.array([(lo[0] + hi[0]) / 2, 0.0, (lo[2] + hi[2]) / 2], dtype=np.float32)
    w0 = c0 - nw * wall_d
    den = rays @ nw
    with np.errstate(divide="ignore", invalid="ignore"):
        tw = np.where(den < -1e-6, float(nw @ (w0 - pos)) / den, np.inf).astype(np.float32)
    floor = tf < tw
    t = np.where(floor, tf, tw)
    t = np.where(np.isfinite(t), t, 1e3)
    hit = pos + rays * t[..., None]
    params = {"background": kind}
    if kind == "studio":
        tone = _u(rng, 0.78, 1.0) if rng.random() < 0.75 else _u(rng, 0.25, 0.75)
        yy = np.linspace(-1, 1, H, dtype=np.float32)[:, None]
        xx = np.linspace(-1, 1, W, dtype=np.float32)[None, :]
        g = 1 - _u(rng, 0.0, 0.12) * (xx ** 2 + yy ** 2) + _u(rng, -0.08, 0.08) * yy
        img = tone * g + 0.004 * _noise(rng, (H, W), 8)
        params["bg_tone"] = tone
        return img.astype(np.float32), floor, params
    # coordinates on the floor (x, z) and on the wall (s along the wall, y up)
    fx, fz = hit[..., 0], hit[..., 2]
    sw = hit[..., 0] * nw[2] - hit[..., 2] * nw[0]
    wy = hit[..., 1]
    if far:
        ftone, wtone = _u(rng, 0.2, 0.6), _u(rng, 0.1, 0.6)
        ground = ftone * (1 + 0.1 * _noise(rng, (H, W), 1) + 0.1 * _noise(rng, (H, W), 12))
        sky_h = _u(rng, 1.0, 6.0)
        trees = wtone * (1 + 0.15 * _noise(rng, (H, W), 2) + 0.2 * _noise(rng, (H, W), 15))
        sky = _u(rng, 0.6, 1.0) + 0.03 * _noise(rng, (H, W), 20)
        skyline = sky_h * (1 + 0.25 * np.sin(sw * _u(rng, 0.1, 0.5) + _u(rng, 0, 6.3)))
        wall = np.where(wy < skyline, trees, sky)
        img = np.where(floor, ground, wall)
        params.update(bg_floor=ftone, bg_wall=wtone)
        return img.astype(np.float32), floor, params
    ftone, wtone = _u(rng, 0.12, 0.8), _u(rng, 0.3, 0.95)
    ftype = str(rng.choice(["planks", "tiles", "carpet", "plain"]))
    fa = _u(rng, 0, np.pi)
    fu = fx * np.cos(fa) + fz * np.sin(fa)
    fv = -fx * np.sin(fa) + fz * np.cos(fa)
    flo = ftone * (1 + 0.08 * _noise(rng, (H, W), 12))
    if ftype == "planks":
        pw = _u(rng, 0.08, 0.25)
        idx = np.floor(fu / pw)
        lum = np.sin(idx * 12.9898) * 43758.5453
        lum = (lum - np.floor(lum)) - 0.5
        flo = flo * (1 + 0.25 * lum) * (1 - 0.35 * (np.abs(fu / pw - idx - 0.5) > 0.47))
    elif ftype == "tiles":
        ts = _u(rng, 0.3, 0.8)
        gu, gv = np.abs(fu / ts - np.round(fu / ts)), np.abs(fv / ts - np.round(fv / ts))
        flo = flo * (1 - 0.3 * ((gu < 0.02) | (gv < 0.02)))
    elif ftype == "carpet":
        flo = flo * (1 + 0.1 * _noise(rng, (H, W), 1))
    if rng.random() < 0.25:   # a rug under the furniture
        ru, rv = _u(rng, 0.6, 1.6), _u(rng, 0.5, 1.2)
        rug = (np.abs(fx - c0[0]) < ru) & (np.abs(fz - c0[2]) < rv)
        flo = np.where(rug, _u(rng, 0.1, 0.9) * (1 + 0.08 * _noise(rng, (H, W), 1)), flo)
    wal = wtone * (1 + 0.015 * _noise(rng, (H, W), 10)) * (1 - _u(rng, 0, 0.2) * np.clip(wy / 3, 0, 1))
    if rng.random() < 0.6:   # baseboard
        bb = _u(rng, 0.05, 0.14)
        wal = np.where(wy < bb, _u(rng, 0.2, 1.0), wal)
    n_frames = int(rng.integers(0, 4))
    for _ in range(n_frames):   # pictures, windows, doors on the wall
        s0, y0 = _u(rng, -2.5, 2.5), _u(rng, 0.3, 1.6)
        fw, fh = _u(rng, 0.2, 1.2), _u(rng, 0.2, 1.2)
        r = (np.abs(sw - s0) < fw / 2) & (np.abs(wy - y0 - fh / 2) < fh / 2)
        tone = _u(rng, 0.0, 1.0)
        inner = (np.abs(sw - s0) < fw / 2 - 0.03) & (np.abs(wy - y0 - fh / 2) < fh / 2 - 0.03)
        wal = np.where(r, np.where(inner, tone * (1 + 0.12 * _noise(rng, (H, W), 6)), 1 - tone), wal)
    img = np.where(floor, flo, wal)
    params.update(bg_floor=ftone, bg_wall=wtone, floor_type=ftype, n_frames=n_frames)
    return img.astype(np.float32), floor, params


def _shadow(parts: list[Part], cam: Camera, light: np.ndarray, blur: float) -> np.ndarray:
    """Soft shadow on the floor: each part projected along the light, plus a contact shadow."""
    H, W = cam.height, cam.width
    mask = np.zeros((H, W), np.float32)
    contact = np.zeros((H, W), np.float32)
    for p in parts:
        v = p.verts
        s = v - light[None, :] * (v[:, 1:2] / light[1])
        s[:, 1] = 0.0
        for pts, m in ((s, mask), (np.column_stack([v[:, 0], np.zeros(len(v)), v[:, 2]]), contact)):
            c = cam.to_cam(pts)
            if np.any(c[:, 2] < 1e-3):
                continue
            uv = cam.project(pts)
            hull = cv2.convexHull(np.round(uv * 4).astype(np.int32))
            cv2.fillConvexPoly(m, hull, 1.0, lineType=cv2.LINE_8, shift=2)
    k = max(3, int(blur * min(H, W)) | 1)
    mask = cv2.GaussianBlur(mask, (k, k), 0)
    contact = cv2.GaussianBlur(contact, (k * 2 + 1, k * 2 + 1), 0)
    return np.clip(0.6 * mask + 0.6 * contact, 0, 1)


# --------------------------------------------------------------------------- main entry
def sample_size(rng: np.random.Generator, short_range: tuple[int, int],
                aspect_hint: float) -> tuple[int, int]:
    """Output (width, height): short side skewed to the small end of the range, varied aspect."""
    lo, hi = short_range
    short = int(round(lo * (hi / lo) ** (rng.random() ** 1.5)))
    if rng.random() < 0.25:
        aspect = 1.0
    else:
        aspect = float(np.exp(0.6 * np.log(aspect_hint) + rng.normal(0, 0.22)))
        aspect = float(np.clip(aspect, 0.6, 1.8))
    if aspect >= 1:
        return int(round(short * aspect)), short
    return short, int(round(short / aspect))


def render_scene(class_name: str, rng: np.random.Generator,
                 short_range: tuple[int, int] = (300, 1200)) -> tuple[np.ndarray, dict]:
    """Draw one photo of a random `class_name`; returns (uint8 grey image, sampled parameters)."""
    parts, params = BUILDERS[class_name](rng)
    obj_verts = np.vstack([p.verts for p in parts])
    lo, hi = obj_verts.min(axis=0), obj_verts.max(axis=0)
    az, el = sample_view(rng)
    vfov = _u(rng, 30, 60)
    r = rng.random()
    # mostly whole and well framed; some tight crops, but not of a featureless back
    fill = _u(rng, 0.45, 0.95) if r < 0.88 or abs(az) > 110 else _u(rng, 0.95, 1.25)
    offset = tuple(float(v) for v in np.clip(rng.normal(0, 0.4, 2), -1, 1))
    roll = np.radians(rng.normal(0, 2.0))
    # the aspect ratio follows the object's shape loosely, as photographers frame it
    pre = _fit_camera(obj_verts, az, el, vfov, 0.8, 400, 400, rng, (0, 0), 0.0)
    uv = pre.project(obj_verts)
    hint = (np.ptp(uv[:, 0]) + 1) / (np.ptp(uv[:, 1]) + 1)
    out_w, out_h = sample_size(rng, short_range, hint)
    scale = min(1.0, RENDER_SHORT / min(out_w, out_h))
    rw, rh = max(32, int(round(out_w * scale))), max(32, int(round(out_h * scale)))
    cam = _fit_camera(obj_verts, az, el, vfov, fill, rw, rh, rng, offset, roll)
    scene = list(parts)
    clutter = "none"
    if rng.random() < 0.3:
        extra, clutter = _clutter(rng, lo, hi, az)
        scene += extra
    bg_kind = str(rng.choice(["studio", "room", "outdoor"], p=[0.38, 0.47, 0.15]))
    # ---- light: a sun/lamp direction plus ambient
    # photographers light from the camera's side: key light within ~+-100 deg of the view
    la = np.radians(az + rng.normal(0, 55)) if rng.random() < 0.85 else _u(rng, 0, 2 * np.pi)
    le = np.radians(_u(rng, 25, 80))
    light = np.array([np.cos(le) * np.sin(la), np.sin(le), np.cos(le) * np.cos(la)])
    amb = _u(rng, 0.25, 0.6)
    key = _u(rng, 1.0, 1.6)
    # background, shadows and textures at the working resolution; only the object's silhouette
    # and faces are supersampled (that is where aliasing shows)
    bg, floor, bparams = _background(rng, cam, lo, hi, bg_kind)
    if rng.random() < 0.75:
        sh = _shadow(scene, cam, light, _u(rng, 0.01, 0.06))
        bg = bg * (1 - _u(rng, 0.25, 0.6) * sh * floor)
    cs = cam.scaled(SS)
    ids, _, table = rasterize(scene, cs)
    # ---- shade each visible face once, then look it up per pixel
    n_f = len(table)
    if n_f == 0:
        img = bg
    else:
        normals = np.array([scene[pi].normals[fi] for pi, fi in table])
        centers = np.array([scene[pi].centers[fi] for pi, fi in table])
        albedo = np.array([scene[pi].albedo for pi, _ in table])
        mat = np.array([_MAT_NAMES.index(scene[pi].material) for pi, _ in table], dtype=np.int64)
        view = cs.pos[None, :] - centers
        view /= np.linalg.norm(view, axis=1, keepdims=True) + 1e-9
        half = light[None, :] + view
        half /= np.linalg.norm(half, axis=1, keepdims=True) + 1e-9
        diff = np.clip(normals @ light, 0, None)
        look = _LOOK[mat]
        spec = look[:, 3] * np.clip(np.einsum("ij,ij->i", normals, half), 0, None) ** look[:, 4]
        shade = albedo * key * (amb * (0.75 + 0.25 * normals[:, 1]) + (1 - amb) * diff) + spec
        obj = ids >= 0
        lut = np.concatenate([[0.0], shade]).astype(np.float32)
        layer = lut[ids + 1]                                   # premultiplied: 0 off the object
        layer = cv2.resize(layer, (rw, rh), interpolation=cv2.INTER_AREA)
        cover = cv2.resize(obj.astype(np.float32), (rw, rh), interpolation=cv2.INTER_AREA)
        mid = (ids[::SS, ::SS] + 1)[:rh, :rw]                  # nearest face per output pixel
        matl = np.concatenate([[0], mat])[mid]
        lk = np.vstack([np.zeros((1, 5)), look]).astype(np.float32)
        tex = (1 + lk[matl, 0] * _noise(rng, (rh, rw), 1) + lk[matl, 1] * _noise(rng, (rh, rw), 12)
               + lk[matl, 2] * (_noise(rng, (rh, rw), 16, 1) if rng.random() < 0.5
                                else _noise(rng, (rh, rw), 1, 16)))
        img = layer * tex + bg * (1 - cover)
    img, fx = _camera_effects(rng, img)
    if (rw, rh) != (out_w, out_h):
        img = cv2.resize(img, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    # sensor noise at the output resolution (upsampled noise would look like blotches);
    # uniform integers are several times cheaper than Gaussians and look the same after JPEG
    noise = int(rng.integers(0, 7))
    if noise:
        grain = rng.integers(-noise, noise + 1, size=img.shape, dtype=np.int16)
        img = np.clip(img.astype(np.int16) + grain, 0, 255).astype(np.uint8)
    fx["noise"] = noise
    params.update(bparams)
    params.update(azimuth=az, elevation=el, vfov=vfov, fill=fill, roll=float(np.degrees(roll)),
                  light_azimuth=float(np.degrees(la)), light_elevation=float(np.degrees(le)),
                  ambient=amb, key_light=key, clutter=clutter, width_px=out_w, height_px=out_h, **fx)
    return img, params


def _camera_effects(rng: np.random.Generator, img: np.ndarray) -> tuple[np.ndarray, dict]:
    """Exposure, blur, vignetting, sensor noise, the odd watermark; returns uint8."""
    H, W = img.shape
    expo = _u(rng, 0.8, 1.2)
    gamma = _u(rng, 0.75, 1.3)
    img = np.clip(img * expo, 0, 1) ** gamma
    blur = _u(rng, 0.3, 1.6) if rng.random() < 0.4 else 0.0
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    vig = _u(rng, 0.0, 0.35) if rng.random() < 0.5 else 0.0
    if vig > 0:
        yy = np.linspace(-1, 1, H, dtype=np.float32)[:, None]
        xx = np.linspace(-1, 1, W, dtype=np.float32)[None, :]
        img = img * (1 - vig * np.clip((xx ** 2 + yy ** 2) / 2, 0, 1))
    out = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    mark = rng.random() < 0.08
    if mark:
        text = "".join(rng.choice(list(string.ascii_lowercase), int(rng.integers(4, 10)))) + ".com"
        scale = _u(rng, 0.4, 1.2) * min(H, W) / 300
        org = (int(_u(rng, 0, W * 0.5)), int(_u(rng, H * 0.2, H * 0.98)))
        layer = out.copy()
        cv2.putText(layer, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale,
                    int(rng.integers(0, 256)), max(1, int(scale * 2)), cv2.LINE_AA)
        out = cv2.addWeighted(out, 0.5, layer, 0.5, 0)
    return out, {"blur": blur, "vignette": vig, "exposure": expo, "gamma": gamma,
                 "watermark": mark}
