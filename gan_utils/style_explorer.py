"""Explore a style-based generator's W space: sliders for truncation, style mixing and learned directions on a
real (projected) or generated image, and the static figure the HTML book shows in its place.

The generator comes in as draw(ws) -> images, ws float32 (N, num_ws, w_dim) and images float32 (N, H, W, C) in
[-1, 1] (e.g. `lambda ws: wspace.synthesise(generator, ws)`), so nothing here imports TensorFlow. Every control
acts on per-layer latents: ws = w_avg + psi (base - w_avg); then the chosen layers are taken from a second image's
ws (style mixing); then each direction adds its amount.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from gan_utils import plots
from gan_utils.widgets import png_mosaic

__all__ = ["compose", "StyleExplorer", "static_style_explorer"]

AMOUNT_RANGE = 3.0  # each direction's slider runs from -3 to 3 (the direction's amounts are in its own units)


def _check_ws_map(name: str, named, shape=None) -> dict[str, np.ndarray]:
    if not isinstance(named, Mapping) or not named:
        raise TypeError(f"{name} must be a non-empty dict of name -> ws (num_ws, w_dim); got {type(named).__name__}.")
    checked = {str(key): np.asarray(value, np.float32) for key, value in named.items()}
    for key, value in checked.items():
        if value.ndim != 2 or (shape is not None and value.shape != shape):
            raise ValueError(f"{name}[{key!r}] must have shape (num_ws, w_dim){'' if shape is None else f' = {shape}'}; "
                             f"got {value.shape}.")
    return checked


def compose(base, w_avg, *, psi: float = 1.0, mix_from=None, mix_layers: range | None = None,
            directions: Mapping[str, np.ndarray] | None = None, amounts: Mapping[str, float] | None = None):
    """One image's ws (num_ws, w_dim): truncated towards w_avg by psi, mix_layers from mix_from, then moved along
    each direction by its amount."""
    ws = np.asarray(w_avg, np.float32) + np.float32(psi) * (np.asarray(base, np.float32) - np.asarray(w_avg, np.float32))
    if mix_from is not None and mix_layers is not None:
        ws[mix_layers.start:mix_layers.stop] = np.asarray(mix_from, np.float32)[mix_layers.start:mix_layers.stop]
    for name, amount in (amounts or {}).items():
        ws = ws + np.float32(amount) * np.asarray(directions[name], np.float32)
    return ws


class StyleExplorer:
    """Controls over one image's latents: which image, psi, a second image whose styles replace a layer group's,
    and one slider per direction. Every change redraws; display it as the last line of a cell."""

    def __init__(self, draw: Callable, images: Mapping[str, np.ndarray], w_avg, *,
                 layer_groups: Mapping[str, range], directions: Mapping[str, np.ndarray] | None = None,
                 scale: int = 4):
        if not callable(draw):
            raise TypeError("draw must be a callable draw(ws) -> images, e.g. lambda ws: wspace.synthesise(g, ws).")
        self.draw, self.scale = draw, scale
        first = next(iter(images.values()), None) if isinstance(images, Mapping) else None
        self.images = _check_ws_map("images", images, None if first is None else np.shape(first))
        self.w_avg = np.asarray(w_avg, np.float32)
        self.layer_groups = dict(layer_groups)
        self.directions = {name: np.asarray(v, np.float32) for name, v in (directions or {}).items()}
        style = {"description_width": "initial"}
        names = list(self.images)
        self.base = ipywidgets.Dropdown(options=names, value=names[0], description="image", style=style)
        self.psi = ipywidgets.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description="psi",
                                          continuous_update=False, style=style)
        self.mix_from = ipywidgets.Dropdown(options=["(none)", *names], value="(none)", description="mix styles from",
                                            style=style)
        self.mix_layers = ipywidgets.Dropdown(options=list(self.layer_groups), description="layers", style=style)
        self.amounts = {name: ipywidgets.FloatSlider(value=0.0, min=-AMOUNT_RANGE, max=AMOUNT_RANGE, step=0.25,
                                                     description=name, continuous_update=False, style=style)
                        for name in self.directions}
        self.image = ipywidgets.Image(format="png")
        controls = [self.base, self.psi, self.mix_from, self.mix_layers, *self.amounts.values()]
        self.widget = ipywidgets.VBox([ipywidgets.HBox(controls[:2]), ipywidgets.HBox(controls[2:4]),
                                       *controls[4:], self.image])
        self.ws: np.ndarray | None = None  # the last drawn latents and image
        self.drawn: np.ndarray | None = None
        self.redraw()
        for control in controls:
            control.observe(lambda change: self.redraw(), names="value")

    def latents(self) -> np.ndarray:
        """The (num_ws, w_dim) latents the controls select."""
        mixing = self.mix_from.value != "(none)"
        return compose(self.images[self.base.value], self.w_avg, psi=self.psi.value,
                       mix_from=self.images[self.mix_from.value] if mixing else None,
                       mix_layers=self.layer_groups[self.mix_layers.value] if mixing else None,
                       directions=self.directions, amounts={name: s.value for name, s in self.amounts.items()})

    def redraw(self) -> None:
        """Draw the selected latents and show the image; self.ws and self.drawn keep them."""
        ws = self.latents()
        drawn = np.clip(np.asarray(self.draw(ws[None]), np.float32), -1.0, 1.0)
        self.image.value = png_mosaic(drawn, self.scale)
        self.ws, self.drawn = ws, drawn[0]

    def _ipython_display_(self):
        from IPython.display import display  # lazily: built and tested without IPython

        display(self.widget)


def static_style_explorer(draw: Callable, base, w_avg, *, directions: Mapping[str, np.ndarray],
                          amounts=(-2.0, -1.0, 0.0, 1.0, 2.0), psis=(1.0, 0.75, 0.5, 0.25, 0.0)) -> Figure:
    """The HTML book's stand-in for StyleExplorer: a row of psi values, then one row per direction across
    `amounts` (as many as psis), all from one image's latents `base` (num_ws, w_dim)."""
    if len(amounts) != len(psis):
        raise ValueError(f"amounts and psis make the columns: give as many of each; got {len(amounts)} and {len(psis)}.")
    rows = [[compose(base, w_avg, psi=psi) for psi in psis]]
    rows += [[compose(base, w_avg, directions=directions, amounts={name: a}) for a in amounts] for name in directions]
    images = np.clip(np.asarray(draw(np.stack([ws for row in rows for ws in row])), np.float32), -1.0, 1.0)
    labels = ", ".join(directions)
    fig = plots.image_grid(images, ncols=len(psis), title=f"top row: psi = {', '.join(f'{p:g}' for p in psis)}; "
                                                         f"below: {labels} at {', '.join(f'{a:+g}' for a in amounts)}")
    return fig
