"""Class-specific assembly rules: random dimensions, proportions, optional parts and materials.

Each builder returns (parts, params). Parts sit on the floor (y = 0), centred on x = z = 0,
facing +z. `params` is a flat dict of the sampled choices; it goes into metadata.csv, so the
tests can check each class's rules and a reader can see why an image looks the way it does.

The classes deliberately overlap where real photos do: short benches vs chairs, chairs with arms
vs one-seat armchairs, office chairs without arms, cushioned benches with backs vs loveseats,
thick "executive" office chairs vs leather armchairs.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from selib.synth.geometry import Part, box, post, rod, rot_x, rot_y, rounded_box

Rng = np.random.Generator

# material -> (albedo low, albedo high); grey-level reflectances, before lighting
MATERIALS = {
    "wood": (0.10, 0.70),
    "fabric": (0.10, 0.85),
    "leather": (0.04, 0.45),
    "metal": (0.30, 0.80),      # chrome / brushed steel, shiny
    "blackmetal": (0.04, 0.15),
    "plastic": (0.03, 0.90),
    "mesh": (0.05, 0.30),
    "stone": (0.40, 0.75),
}


def _u(rng: Rng, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _pick(rng: Rng, options: dict[str, float]) -> str:
    keys = list(options)
    p = np.array([options[k] for k in keys], dtype=np.float64)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _mat(rng: Rng, name: str, albedo: float | None = None) -> dict:
    lo, hi = MATERIALS[name]
    return {"material": name, "albedo": _u(rng, lo, hi) if albedo is None else albedo}


def _tilted(parts: list[Part], angle: float, pivot) -> list[Part]:
    """Lean a group of parts backwards (towards -z) by `angle` about a horizontal axis at pivot."""
    R = rot_x(-angle)
    pivot = np.asarray(pivot, dtype=np.float64)
    return [p.transformed(R, pivot - R @ pivot) for p in parts]


def _leg(rng_style: dict, bottom, top, **m) -> Part:
    r = rng_style["r"]
    return post(bottom, top, r * rng_style["taper"], r, sides=rng_style["sides"],
                square=rng_style["square"], tag="leg", **m)


# =========================================================================== chair
def chair(rng: Rng) -> tuple[list[Part], dict]:
    """4 legs, a roughly square seat at sitting height, a backrest; sometimes arms."""
    W = _u(rng, 0.38, 0.52)
    D = W * _u(rng, 0.85, 1.15)
    H = _u(rng, 0.40, 0.50)
    frame = _pick(rng, {"wood": 0.55, "metal": 0.15, "blackmetal": 0.12, "plastic": 0.18})
    fm = _mat(rng, frame)
    upholstered = rng.random() < 0.35
    sm = _mat(rng, _pick(rng, {"fabric": 0.7, "leather": 0.3})) if upholstered else dict(fm)
    thin = frame in ("metal", "blackmetal")
    lw = _u(rng, 0.010, 0.018) if thin else _u(rng, 0.016, 0.030)   # leg radius
    style = {"r": lw, "taper": 1.0 if thin else _u(rng, 0.55, 1.0),
             "sides": 8, "square": (not thin) and rng.random() < 0.6}
    t = _u(rng, 0.05, 0.10) if upholstered else _u(rng, 0.018, 0.05)
    parts: list[Part] = []
    if upholstered:
        parts.append(rounded_box((0, H - t / 2, 0), (W, t, D), t * 0.4, "x", tag="seat", **sm))
    else:
        parts.append(box(-W / 2, W / 2, H - t, H, -D / 2, D / 2, tag="seat", **sm))
    inset = _u(rng, 0.0, 0.035) + lw
    splay = _u(rng, 0.0, 0.045)
    xs, zs = W / 2 - inset, D / 2 - inset
    for sx in (-1, 1):
        for sz in (-1, 1):
            parts.append(_leg(style, (sx * (xs + splay), 0, sz * (zs + splay)),
                              (sx * xs, H - t, sz * zs), **fm))
    stretchers = rng.random() < 0.35
    if stretchers:
        ys = _u(rng, 0.08, 0.25)
        f = ys / (H - t)
        xo, zo = xs + splay * (1 - f), zs + splay * (1 - f)
        for sx in (-1, 1):
            parts.append(rod((sx * xo, ys, -zo), (sx * xo, ys, zo), lw * 0.5, tag="stretcher", **fm))
        parts.append(rod((-xo, ys + 0.03, zo), (xo, ys + 0.03, zo), lw * 0.5, tag="stretcher", **fm))
    apron = (not upholstered) and frame == "wood" and rng.random() < 0.45
    if apron:
        ah = _u(rng, 0.035, 0.08)
        th = 0.015
        parts.append(box(-xs, xs, H - t - ah, H - t, zs - th, zs, tag="apron", **fm))
        parts.append(box(-xs, xs, H - t - ah, H - t, -zs, -zs + th, tag="apron", **fm))
        for sx in (-1, 1):
            parts.append(box(sx * xs - th / 2, sx * xs + th / 2, H - t - ah, H - t, -zs, zs,
                             tag="apron", **fm))

    # ---- backrest, built upright then leaned back about the seat's rear edge
    low_back = rng.random() < 0.12                      # "stool with a back": overlaps with benches
    hb = _u(rng, 0.14, 0.25) if low_back else _u(rng, 0.30, 0.58)
    tilt = _u(rng, 0.0, 0.28)
    back_style = _pick(rng, {"panel": 0.22, "slats": 0.2, "rails": 0.2, "upholstered": 0.22,
                             "shell": 0.16})
    if upholstered and rng.random() < 0.6:
        back_style = "upholstered"
    zb = -zs
    back: list[Part] = []
    pr = lw * _u(rng, 0.75, 1.0)
    if back_style != "shell":
        for sx in (-1, 1):
            back.append(rod((sx * xs, H - t, zb), (sx * xs, H + hb, zb), pr, sides=8,
                            square=style["square"], tag="post", **fm))
    inner = xs - pr
    if back_style == "panel":
        ph = hb * _u(rng, 0.25, 0.65)
        back.append(box(-inner - pr * 0.5, inner + pr * 0.5, H + hb - ph, H + hb - 0.005,
                        zb - 0.012, zb + 0.012, tag="back", **fm))
    elif back_style == "slats":
        rh = _u(rng, 0.035, 0.08)
        back.append(box(-inner, inner, H + hb - rh, H + hb - 0.01, zb - 0.012, zb + 0.012,
                        tag="back", **fm))
        yb = H + _u(rng, 0.04, 0.12)
        back.append(box(-inner, inner, yb, yb + 0.03, zb - 0.01, zb + 0.01, tag="back", **fm))
        n = int(rng.integers(3, 8))
        sw = 2 * inner / n * _u(rng, 0.3, 0.6)
        for x in np.linspace(-inner, inner, n + 2)[1:-1]:
            back.append(box(x - sw / 2, x + sw / 2, yb, H + hb - rh, zb - 0.008, zb + 0.008,
                            tag="back", **fm))
    elif back_style == "rails":
        n = int(rng.integers(2, 6))
        rh = _u(rng, 0.02, 0.05)
        for y in np.linspace(H + hb * _u(rng, 0.3, 0.55), H + hb - rh, n):
            back.append(box(-inner, inner, y, y + rh, zb - 0.01, zb + 0.01, tag="back", **fm))
    elif back_style == "upholstered":
        bt = _u(rng, 0.04, 0.09)
        y0 = H + _u(rng, 0.0, 0.08)
        back.append(rounded_box((0, (y0 + H + hb + 0.02) / 2, zb + bt / 2 - 0.005),
                                (2 * xs + 2 * pr + 0.01, H + hb + 0.02 - y0, bt),
                                bt * 0.45, "z", tag="back", **sm))
    else:  # shell: a one-piece moulded back joined to the seat, in three facets for a curve
        bt = 0.015
        wb = W * _u(rng, 0.85, 1.0)
        wing = _u(rng, 0.15, 0.4)
        mid = box(-wb * 0.3, wb * 0.3, H - t, H + hb, zb - bt, zb + bt, tag="back", **fm)
        back.append(mid)
        for sx in (-1, 1):
            w = box(-wb * 0.2, wb * 0.2, H - t, H + hb, -bt, bt, tag="back", **fm)
            R = rot_y(sx * wing)
            back.append(w.transformed(R, (sx * wb * 0.3 + sx * wb * 0.2 * np.cos(wing),
                                          0, zb + wb * 0.2 * np.sin(wing))))
    parts += _tilted(back, tilt, (0, H - t, zb))

    arms = rng.random() < 0.22
    if arms:
        ha = _u(rng, 0.17, 0.26)
        aw = _u(rng, 0.02, 0.04)
        for sx in (-1, 1):
            x = sx * (xs + (0.0 if rng.random() < 0.5 else aw))
            parts.append(rod((x, H - t, zs - 0.01), (x, H + ha, zs - 0.01), pr, sides=8,
                             square=style["square"], tag="arm", **fm))
            parts.append(box(x - aw, x + aw, H + ha, H + ha + 0.025,
                             zb - ha * np.tan(tilt) * 0.5, zs + 0.03, tag="arm", **fm))
    params = {"width": W, "depth": D, "seat_height": H, "n_legs": 4, "frame": frame,
              "upholstered": upholstered, "back_style": back_style, "back_height": hb,
              "low_back": low_back, "back_tilt": tilt, "has_arms": arms,
              "stretchers": stretchers, "apron": apron}
    return parts, params


# =========================================================================== office chair
def office_chair(rng: Rng) -> tuple[list[Part], dict]:
    """A 5-spoke star base with casters, a gas-lift column, seat, backrest on a stem, arms often."""
    executive = rng.random() < 0.22
    bm = _mat(rng, _pick(rng, {"plastic": 0.7, "metal": 0.3}))
    if bm["material"] == "plastic":
        bm["albedo"] = _u(rng, 0.03, 0.15) if rng.random() < 0.85 else _u(rng, 0.6, 0.85)
    if executive:
        um = _mat(rng, "leather")
    else:
        um = _mat(rng, _pick(rng, {"fabric": 0.55, "mesh": 0.3, "leather": 0.15}))
        if um["material"] == "fabric" and rng.random() < 0.6:
            um["albedo"] = _u(rng, 0.05, 0.25)          # most office chairs are dark
    back_m = dict(um) if rng.random() < 0.7 else _mat(rng, "mesh")
    parts: list[Part] = []
    # ---- star base
    Rb = _u(rng, 0.25, 0.34)
    hub_y = _u(rng, 0.07, 0.11)
    cr = _u(rng, 0.022, 0.032)
    a0 = _u(rng, 0, 2 * np.pi)
    for k in range(5):
        a = a0 + k * 2 * np.pi / 5
        dx, dz = np.cos(a), np.sin(a)
        tip = np.array([Rb * dx, 2 * cr + 0.02, Rb * dz])
        parts.append(rod((0.03 * dx, hub_y, 0.03 * dz), tip, 0.022, 0.013, square=True,
                         tag="spoke", **bm))
        parts.append(rod((tip[0], 2 * cr, tip[2]), tip + [0, 0.005, 0], 0.008, tag="caster", **bm))
        ax = np.array([-dz, 0, dx]) * 0.013
        c = np.array([tip[0], cr, tip[2]])
        parts.append(rod(c - ax, c + ax, cr, sides=10, tag="caster",
                         material="plastic", albedo=_u(rng, 0.03, 0.12)))
    parts.append(rod((0, hub_y - 0.035, 0), (0, hub_y + 0.03, 0), 0.045, sides=10, tag="hub", **bm))
    # ---- seat and column
    H = _u(rng, 0.43, 0.55)
    t = _u(rng, 0.10, 0.16) if executive else _u(rng, 0.05, 0.12)
    W = _u(rng, 0.46, 0.58) if executive else _u(rng, 0.42, 0.54)
    D = _u(rng, 0.42, 0.52)
    mh = _u(rng, 0.04, 0.07)
    zc = _u(rng, 0.0, 0.04)
    parts.append(rounded_box((0, H - t / 2, zc), (W, t, D), t * _u(rng, 0.3, 0.5), "x",
                             tag="seat", **um))
    parts.append(box(-0.11, 0.11, H - t - mh, H - t, zc - 0.1, zc + 0.08, tag="mechanism",
                     material="plastic", albedo=_u(rng, 0.03, 0.12)))
    sleeve_top = hub_y + _u(rng, 0.08, 0.2)
    parts.append(rod((0, hub_y, 0), (0, sleeve_top, 0), 0.028, sides=10, tag="column",
                     material="plastic", albedo=_u(rng, 0.03, 0.12)))
    parts.append(rod((0, sleeve_top - 0.01, 0), (0, H - t - mh, 0), _u(rng, 0.013, 0.02),
                     sides=10, tag="column", material="metal", albedo=_u(rng, 0.4, 0.8)))
    # ---- back on a stem
    hb = _u(rng, 0.55, 0.8) if executive else _u(rng, 0.35, 0.68)
    bt = _u(rng, 0.10, 0.17) if executive else _u(rng, 0.03, 0.09)
    gap = _u(rng, 0.0, 0.04) if executive else _u(rng, 0.04, 0.16)
    bw = W * _u(rng, 0.8, 1.0)
    tilt = _u(rng, 0.05, 0.3)
    zb = zc - D / 2 - bt / 2 + 0.02
    y0 = H + gap
    back: list[Part] = []
    wing = _u(rng, 0.0, 0.35)
    if wing > 0.12 and not executive:   # a curved back from three facets
        cw = bw * 0.5
        sw = bw * 0.28
        back.append(rounded_box((0, y0 + hb / 2, zb), (cw, hb, bt), bt * 0.4, "y", tag="back", **back_m))
        for sx in (-1, 1):
            w = rounded_box((0, y0 + hb / 2, 0), (sw, hb * 0.96, bt), bt * 0.4, "y", tag="back", **back_m)
            back.append(w.transformed(rot_y(-sx * wing),
                                      (sx * (cw / 2 + sw / 2 * np.cos(wing) - 0.01), 0,
                                       zb + sw / 2 * np.sin(wing))))
    else:
        back.append(rounded_box((0, y0 + hb / 2, zb), (bw, hb, bt), bt * 0.45, "z", tag="back", **back_m))
    headrest = rng.random() < (0.5 if executive else 0.2)
    if headrest:
        hw, hh = _u(rng, 0.22, 0.32), _u(rng, 0.1, 0.17)
        hy = y0 + hb + _u(rng, 0.03, 0.08)
        back.append(rod((0, y0 + hb - 0.05, zb - bt / 2 - 0.01), (0, hy + 0.02, zb - bt / 2 - 0.01),
                        0.012, square=True, tag="headrest", **bm))
        back.append(rounded_box((0, hy + hh / 2, zb), (hw, hh, bt * 0.8), bt * 0.3, "z",
                                tag="headrest", **back_m))
    # the stem: from the mechanism, back and up behind the backrest
    sy = H - t - mh / 2
    zs = zb - bt / 2 - 0.015
    back.append(rod((0, sy, zc - 0.08), (0, sy, zs), 0.02, square=True, tag="stem", **bm))
    back.append(rod((0, sy, zs), (0, y0 + hb * 0.45, zs), 0.02, square=True, tag="stem", **bm))
    parts += _tilted(back, tilt, (0, H - t, zc - D / 2))
    # ---- arms
    arms = rng.random() < (0.95 if executive else 0.7)
    arm_style = "none"
    if arms:
        ha = _u(rng, 0.18, 0.27)
        aw = _u(rng, 0.045, 0.09) if executive else _u(rng, 0.03, 0.05)
        al = _u(rng, 0.22, 0.32)
        arm_style = "loop" if rng.random() < 0.3 else "T"
        for sx in (-1, 1):
            x = sx * (W / 2 + aw / 2 + 0.005)
            parts.append(rod((0, H - t - mh / 2, zc - 0.05), (x, H - t - mh / 2, zc - 0.05), 0.012,
                             square=True, tag="arm", **bm))
            if arm_style == "T":
                parts.append(rod((x, H - t - mh / 2, zc - 0.05), (x, H + ha, zc - 0.05), 0.018,
                                 square=True, tag="arm", **bm))
            else:
                for zz in (zc - D * 0.35, zc + D * 0.25):
                    parts.append(rod((x, H - t - 0.01, zz), (x, H + ha, zz), 0.012, tag="arm", **bm))
            pad_m = um if executive else {"material": "plastic", "albedo": _u(rng, 0.03, 0.15)}
            parts.append(rounded_box((x, H + ha + 0.015, zc - 0.05 + _u(rng, -0.02, 0.04)),
                                     (aw, 0.03, al), 0.012, "z", tag="arm", **pad_m))
    params = {"width": W, "depth": D, "seat_height": H, "n_spokes": 5, "n_casters": 5,
              "base_radius": Rb, "executive": executive, "has_arms": arms, "arm_style": arm_style,
              "back_height": hb, "back_tilt": tilt, "headrest": headrest,
              "upholstery": um["material"]}
    return parts, params


# =========================================================================== bench
def bench(rng: Rng) -> tuple[list[Part], dict]:
    """A long, shallow seat (length 2-5x depth) on slab ends or 4-6 legs; half have a back."""
    D = _u(rng, 0.28, 0.50)
    ratio = _u(rng, 2.0, 5.0)
    L = D * ratio
    H = _u(rng, 0.38, 0.48)
    seat_style = _pick(rng, {"plank": 0.4, "slats": 0.4, "cushion": 0.2})
    fm = _mat(rng, _pick(rng, {"wood": 0.5, "blackmetal": 0.25, "metal": 0.1, "stone": 0.15}))
    if seat_style == "cushion":
        sm = _mat(rng, _pick(rng, {"fabric": 0.6, "leather": 0.4}))
        t = _u(rng, 0.06, 0.13)
    else:
        sm = _mat(rng, "wood") if fm["material"] != "stone" or rng.random() < 0.5 else dict(fm)
        t = _u(rng, 0.03, 0.09) if seat_style == "plank" else _u(rng, 0.025, 0.045)
    parts: list[Part] = []
    if seat_style == "cushion":
        parts.append(rounded_box((0, H - t / 2, 0), (L, t, D), t * 0.4, "x", tag="seat", **sm))
    elif seat_style == "plank":
        parts.append(box(-L / 2, L / 2, H - t, H, -D / 2, D / 2, tag="seat", **sm))
    else:
        n = int(rng.integers(3, 7))
        gap = _u(rng, 0.008, 0.025)
        sw = (D - gap * (n - 1)) / n
        for i in range(n):
            z0 = -D / 2 + i * (sw + gap)
            parts.append(box(-L / 2, L / 2, H - t, H, z0, z0 + sw, tag="seat", **sm))
    support = "slabs" if rng.random() < 0.35 else "legs"
    inset = _u(rng, 0.02, 0.15) * L / 2
    n_legs = 0
    if support == "slabs":
        st = _u(rng, 0.03, 0.09)
        dd = D * _u(rng, 0.7, 1.0)
        for sx in (-1, 1):
            x = sx * (L / 2 - inset)
            parts.append(box(x - st / 2, x + st / 2, 0, H - t, -dd / 2, dd / 2, tag="leg", **fm))
    else:
        n_legs = 6 if (L > 1.4 and rng.random() < 0.6) else 4
        thin = fm["material"] in ("metal", "blackmetal")
        style = {"r": _u(rng, 0.012, 0.02) if thin else _u(rng, 0.02, 0.04),
                 "taper": 1.0 if thin else _u(rng, 0.6, 1.0), "sides": 8,
                 "square": rng.random() < 0.6}
        splay = _u(rng, 0.0, 0.04)
        zl = D / 2 - _u(rng, 0.0, 0.06) - style["r"]
        for x in np.linspace(-(L / 2 - inset), L / 2 - inset, n_legs // 2):
            for sz in (-1, 1):
                sx = np.sign(x) if abs(x) > 1e-6 else 0.0
                parts.append(_leg(style, (x + sx * splay, 0, sz * (zl + splay)), (x, H - t, sz * zl),
                                  **fm))
        if rng.random() < 0.4:
            ys = _u(rng, 0.08, 0.2)
            parts.append(rod((-(L / 2 - inset), ys, 0), (L / 2 - inset, ys, 0), style["r"] * 0.6,
                             square=True, tag="stretcher", **fm))
            for x in (-(L / 2 - inset), L / 2 - inset):
                parts.append(rod((x, ys, -zl), (x, ys, zl), style["r"] * 0.6, square=True,
                                 tag="stretcher", **fm))
    has_back = rng.random() < 0.5
    back_style = "none"
    tilt = 0.0
    if has_back:
        back_style = "upholstered" if seat_style == "cushion" and rng.random() < 0.7 else "slats"
        hb = _u(rng, 0.28, 0.45)
        tilt = _u(rng, 0.05, 0.3)
        zb = -D / 2 + 0.01
        back: list[Part] = []
        if back_style == "slats":
            n_posts = 3 if L > 1.5 else 2
            for x in np.linspace(-(L / 2 - inset), L / 2 - inset, n_posts):
                back.append(rod((x, H - t, zb), (x, H + hb, zb), 0.02, square=True, tag="post", **fm))
            n = int(rng.integers(2, 5))
            sh = min(_u(rng, 0.04, 0.1), hb / n * 0.8)
            for y in np.linspace(H + hb * 0.3, H + hb - sh, n):
                back.append(box(-L / 2, L / 2, y, y + sh, zb - 0.035, zb - 0.015, tag="back", **sm))
        else:
            bt = _u(rng, 0.06, 0.14)
            back.append(rounded_box((0, H + hb / 2 - t / 2, zb - bt / 2 + 0.02), (L, hb + t, bt),
                                    bt * 0.4, "x", tag="back", **sm))
        parts += _tilted(back, tilt, (0, H - t, zb))
    arms = rng.random() < (0.35 if has_back else 0.1)
    if arms:
        ha = _u(rng, 0.18, 0.26)
        for sx in (-1, 1):
            x = sx * (L / 2 - 0.02)
            parts.append(rod((x, H - t, D / 2 - 0.04), (x, H + ha, D / 2 - 0.04), 0.018, square=True,
                             tag="arm", **fm))
            parts.append(box(x - 0.025, x + 0.025, H + ha, H + ha + 0.03, -D / 2, D / 2 + 0.02,
                             tag="arm", **fm))
    params = {"length": L, "depth": D, "length_ratio": ratio, "seat_height": H,
              "seat_style": seat_style, "support": support, "n_legs": n_legs,
              "has_back": has_back, "back_style": back_style, "back_tilt": tilt, "has_arms": arms,
              "frame": fm["material"]}
    return parts, params


# =========================================================================== sofa
def sofa(rng: Rng) -> tuple[list[Part], dict]:
    """Wide and deep: thick seat cushions (1-3), a thick back, two thick arms, short legs or plinth."""
    armchair = rng.random() < 0.25
    n = 1 if armchair else int(rng.choice([2, 3], p=[0.45, 0.55]))
    wc = _u(rng, 0.5, 0.7)
    A = _u(rng, 0.08, 0.28)
    W = n * wc + 2 * A
    D = _u(rng, 0.75, 1.0)
    um = _mat(rng, _pick(rng, {"fabric": 0.75, "leather": 0.25}))
    lm = _mat(rng, _pick(rng, {"wood": 0.6, "metal": 0.25, "blackmetal": 0.15}))
    legs = rng.random() < 0.65
    lh = _u(rng, 0.04, 0.17) if legs else 0.0
    base_top = _u(rng, 0.22, 0.32)
    ct = _u(rng, 0.09, 0.18)
    seat_top = base_top + ct
    bt = _u(rng, 0.12, 0.25)
    yb = _u(rng, 0.68, 0.95)
    ya = min(_u(rng, 0.52, 0.72), yb - 0.02)
    rr = _u(rng, 0.02, 0.12)
    parts: list[Part] = []
    # frame base between the arms, back frame across the full width
    parts.append(box(-W / 2 + A - 0.01, W / 2 - A + 0.01, lh, base_top, -D / 2 + bt - 0.01,
                     D / 2 - 0.01, tag="base", **um))
    parts.append(rounded_box((0, (lh + yb) / 2, -D / 2 + bt / 2), (W, yb - lh, bt), min(rr, bt * 0.45),
                             "x", tag="back", **um))
    arm_r = A * _u(rng, 0.1, 0.5)
    for sx in (-1, 1):
        parts.append(rounded_box((sx * (W / 2 - A / 2), (lh + ya) / 2, 0.0), (A, ya - lh, D), arm_r,
                                 "z", tag="arm", **um))
    inner = W - 2 * A
    cm = dict(um)
    cm["albedo"] = float(np.clip(um["albedo"] * _u(rng, 0.9, 1.15), 0.02, 0.95))
    back_cushions = rng.random() < 0.55
    z_front = D / 2 + _u(rng, -0.02, 0.03)
    z_back = -D / 2 + bt + (_u(rng, 0.1, 0.17) if back_cushions else 0.0)
    gap = 0.006
    cw = (inner - gap * (n - 1)) / n
    for i in range(n):
        x = -inner / 2 + cw / 2 + i * (cw + gap)
        parts.append(rounded_box((x, base_top + ct / 2, (z_front + z_back) / 2), (cw, ct, z_front - z_back),
                                 ct * 0.4, "x", tag="cushion", **cm))
    if back_cushions:
        bct = z_back - (-D / 2 + bt) + 0.01
        bh = min(yb - seat_top + _u(rng, -0.05, 0.05), 0.6)
        for i in range(n):
            x = -inner / 2 + cw / 2 + i * (cw + gap)
            c = rounded_box((0, bh / 2, 0), (cw, bh, bct), bct * 0.4, "x", tag="cushion", **cm)
            c = c.transformed(rot_x(-0.12), (x, seat_top, -D / 2 + bt + bct / 2 - 0.01))
            parts.append(c)
    pillows = rng.random() < 0.3
    if pillows:
        pm = _mat(rng, "fabric")
        ps = _u(rng, 0.3, 0.45)
        for sx in (-1, 1):
            p = rounded_box((0, ps / 2, 0), (ps, ps, 0.12), 0.05, "z", tag="pillow", **pm)
            p = p.transformed(rot_y(sx * 0.3) @ rot_x(-0.3),
                              (sx * (inner / 2 - ps / 2), seat_top, z_back + 0.05))
            parts.append(p)
    n_legs = 0
    if legs:
        n_legs = 6 if W > 2.0 and rng.random() < 0.5 else 4
        lr = _u(rng, 0.015, 0.03)
        sq = rng.random() < 0.5
        for x in np.linspace(-W / 2 + 0.06, W / 2 - 0.06, n_legs // 2):
            for z in (-D / 2 + 0.06, D / 2 - 0.06):
                parts.append(post((x, 0, z), (x, lh + 0.005, z), lr * _u(rng, 0.6, 1.0), lr,
                                  square=sq, tag="leg", **lm))
    params = {"width": W, "depth": D, "seat_height": seat_top, "armchair": armchair,
              "n_cushions": n, "n_arms": 2, "arm_width": A, "back_height": yb,
              "back_cushions": back_cushions, "support": "legs" if legs else "plinth",
              "n_legs": n_legs, "pillows": pillows, "upholstery": um["material"]}
    return parts, params


def _settled(build: Callable[[Rng], tuple[list[Part], dict]]):
    """Rest the object on the floor: its lowest vertex at y = 0 (casters are n-gons, not discs)."""
    def wrapper(rng: Rng) -> tuple[list[Part], dict]:
        parts, params = build(rng)
        low = min(float(p.verts[:, 1].min()) for p in parts)
        if abs(low) > 1e-9:
            parts = [p.transformed(None, (0.0, -low, 0.0)) for p in parts]
        return parts, params
    wrapper.__name__, wrapper.__doc__ = build.__name__, build.__doc__
    return wrapper


BUILDERS: dict[str, Callable[[Rng], tuple[list[Part], dict]]] = {
    "bench": _settled(bench), "chair": _settled(chair), "office_chair": _settled(office_chair),
    "sofa": _settled(sofa),
}
