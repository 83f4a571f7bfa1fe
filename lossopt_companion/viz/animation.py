"""An animated race of optimizers across a contour plot, embeddable in a notebook as JavaScript HTML."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.animation import Animation, FuncAnimation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import ArrayLike, NDArray

from .._validation import check_int
from ._style import COLUMN_WIDTH, _color, style_context
from .contours import (
    _check_paths,
    _draw_landscape,
    _draw_minimizers,
    _finish_axes,
    _resolve_box,
    _resolve_minimizers,
)

#: More frames than this make the embedded HTML heavy (each frame is a picture) without a smoother race.
MAX_FRAMES = 100

#: matplotlib's player draws its buttons with Font Awesome 4, loaded from a CDN: without a network the buttons
#: are blank. ``animation_html`` drops that stylesheet and gives each button a text glyph that every system
#: font has (the buttons keep matplotlib's titles and aria-labels).
_BUTTON_GLYPHS = {
    '<i class="fa fa-minus"></i>': "\u2212",  # decrease speed: minus sign
    '<i class="fa fa-fast-backward"></i>': "\u21e4",  # first frame: leftwards arrow to bar
    '<i class="fa fa-step-backward"></i>': "\u2039",  # previous frame: single left angle quotation mark
    '<i class="fa fa-play fa-flip-horizontal"></i>': "\u25c0\ufe0e",  # play backwards, text presentation
    '<i class="fa fa-pause"></i>': "\u2016",  # pause: double vertical line
    '<i class="fa fa-play"></i>': "\u25b6\ufe0e",  # play
    '<i class="fa fa-step-forward"></i>': "\u203a",  # next frame
    '<i class="fa fa-fast-forward"></i>': "\u21e5",  # last frame: rightwards arrow to bar
    '<i class="fa fa-plus"></i>': "+",  # increase speed
}
_FONT_AWESOME = re.compile(r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">\s*')


def animate_race(
    fun: Callable[..., Any],
    xlim: Sequence[float] | None,
    ylim: Sequence[float] | None,
    paths: Mapping[str, ArrayLike],
    *,
    interval: int = 50,
    max_frames: int = MAX_FRAMES,
    levels: int | Sequence[float] = 30,
    log_levels: bool = True,
    minimizers: ArrayLike | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (COLUMN_WIDTH, 5.6),
    dpi: float = 100.0,
) -> FuncAnimation:
    r"""Animate several optimizers moving over the contours of a 2-D function, one step per frame.

    Every optimizer's trail grows step by step from its start, with a large marker at its current iterate; an
    optimizer whose path is shorter (it converged or stopped earlier) stays at its last point while the others
    go on. Paths longer than ``max_frames`` steps are subsampled evenly (always keeping the first and the last
    step), so that the animation has at most ``max_frames`` frames and its HTML stays small; the step counter
    shows the real step number.

    The figure is created with ``matplotlib.figure.Figure`` (not through pyplot), so a notebook shows only the
    animation, not an extra static picture. Everything static (contours, axes, legend, start markers,
    minimizers) is rendered once into a picture and only the trails move over it, which makes a frame several
    times faster to render. Display it with ``IPython.display.HTML(animation_html(anim))``.

    Parameters
    ----------
    fun : callable or Problem
        As in ``plot_contours``.
    xlim, ylim : tuple or None
        The plotting box (None: the problem's ``bounds``).
    paths : dict
        The trajectories, by label; they may have different lengths.
    interval : int, optional
        Milliseconds between frames. Default: 50.
    max_frames : int, optional
        The most frames, at least 2. Default: 100.
    levels : int or array_like, optional
        As in ``plot_contours``. Default: 30.
    log_levels : bool, optional
        As in ``plot_contours``. Default: True.
    minimizers : array_like, optional
        As in ``plot_contours``: by default the problem's known minimizers.
    title : str, optional
        As in ``plot_contours``: by default the problem's class name.
    figsize : tuple, optional
        The figure size in inches. Default: ``(8.0, 5.6)``, the width of the book's column.
    dpi : float, optional
        Dots per inch of the frames (with ``figsize``, it sets the size in pixels of every embedded frame).
        Default: 100, at which the legend's text is as large as in the package's static figures.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        The animation; its attribute ``frame_steps`` holds the step number shown in each frame.

    Raises
    ------
    ValueError
        If ``paths`` is empty or a path is not of shape ``(k, 2)`` with finite entries, or as in
        ``plot_contours``.

    Examples
    --------
    >>> from lossopt_companion.problems import Himmelblau
    >>> from lossopt_companion.second_order import lbfgs, newton
    >>> from lossopt_companion.viz import animate_race, animation_html
    >>> himmelblau = Himmelblau()
    >>> start = [-0.5, 0.5]
    >>> paths = {"L-BFGS": lbfgs(himmelblau, start).path,
    ...          "Newton": newton(himmelblau, start, hess=himmelblau.hessian).path}
    >>> anim = animate_race(himmelblau, None, None, paths)
    >>> len(anim.frame_steps) == max(len(path) for path in paths.values())
    True
    >>> html = animation_html(anim, alt="L-BFGS and Newton on Himmelblau")

    In a notebook, ``IPython.display.HTML(html)`` then shows the race.
    """
    xlim, ylim = _resolve_box(fun, xlim, ylim)
    checked = _check_paths(paths)
    if not checked:
        raise ValueError("paths must hold at least one trajectory")
    check_int(max_frames, "max_frames", minimum=2)
    check_int(interval, "interval", unit="milliseconds")
    stars = _resolve_minimizers(fun, minimizers)
    longest = max(len(path) for path in checked.values())
    frame_steps = np.unique(np.round(np.linspace(0, longest - 1, min(longest, max_frames))).astype(int))

    with style_context():
        background, axes_box, pixel_paths = _render_background(
            fun,
            xlim,
            ylim,
            checked,
            stars,
            levels=levels,
            log_levels=log_levels,
            title=title,
            figsize=figsize,
            dpi=dpi,
        )
        # The moving parts are drawn over a picture of everything static, in pixel coordinates: rendering a
        # frame then costs one image and a few lines instead of the contours, ticks and labels again.
        fig = Figure(figsize=figsize, dpi=dpi)
        width, height = fig.bbox.width, fig.bbox.height  # one data unit of the overlay = one pixel
        overlay = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        overlay.imshow(
            background, extent=(0, width, 0, height), origin="upper", interpolation="nearest", aspect="auto"
        )
        overlay.set_xlim(0, width)
        overlay.set_ylim(0, height)
        overlay.set_axis_off()
        width_and_height = axes_box[1] - axes_box[0]
        clip = Rectangle(axes_box[0], *width_and_height, transform=overlay.transData, visible=False)
        overlay.add_patch(clip)
        trails, heads = [], []
        for index in range(len(pixel_paths)):
            color = _color(index)
            (trail,) = overlay.plot([], [], "-", color=color, linewidth=1.6, clip_path=clip)
            (head,) = overlay.plot(
                [],
                [],
                marker="o",
                markersize=8,
                color=color,
                markeredgecolor="white",
                linestyle="none",
                zorder=6,
                clip_path=clip,
            )
            trails.append(trail)
            heads.append(head)
        counter = overlay.text(
            axes_box[0][0] + 6,
            axes_box[1][1] - 6,
            "",
            va="top",
            ha="left",
            fontsize="small",
            bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8, "linewidth": 0},
        )

    def draw(step: int) -> list[Any]:
        for path, trail, head in zip(pixel_paths, trails, heads):
            last = min(int(step), len(path) - 1)
            trail.set_data(path[: last + 1, 0], path[: last + 1, 1])
            head.set_data([path[last, 0]], [path[last, 1]])
        counter.set_text(f"step {int(step)}")
        return [*trails, *heads, counter]

    animation = FuncAnimation(
        fig,
        draw,
        frames=list(frame_steps),
        init_func=lambda: draw(0),
        interval=int(interval),
        blit=False,
        repeat=False,
    )
    animation.frame_steps = frame_steps  # type: ignore[attr-defined]
    return animation


def _render_background(
    fun: Any,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    paths: dict[str, NDArray[np.float64]],
    stars: NDArray[np.float64],
    *,
    levels: int | Sequence[float],
    log_levels: bool,
    title: str | None,
    figsize: tuple[float, float],
    dpi: float,
) -> tuple[NDArray[np.uint8], NDArray[np.float64], list[NDArray[np.float64]]]:
    """The static picture (landscape, start markers, minimizers, legend) as RGBA pixels, the axes' box in
    pixels ((x0, y0), (x1, y1), origin at the bottom left), and every path converted to pixel coordinates."""
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _draw_landscape(ax, fun, xlim, ylim, levels=levels, log_levels=log_levels, resolution=150)
    for index, (label, path) in enumerate(paths.items()):
        color = _color(index)
        ax.plot(
            *path[0],
            marker="o",
            markersize=7,
            markerfacecolor="white",
            markeredgecolor=color,
            markeredgewidth=1.6,
            linestyle="none",
        )
        ax.plot([], [], "-", color=color, linewidth=1.6, label=label)  # the legend entry of the moving trail
    _draw_minimizers(ax, stars)
    _finish_axes(ax, fun, title)
    canvas.draw()
    fig.set_layout_engine("none")  # freeze the layout so that the transform below stays valid
    pixels = np.asarray(canvas.buffer_rgba()).copy()
    box = ax.get_window_extent().get_points()
    return pixels, box, [ax.transData.transform(path) for path in paths.values()]


def animation_html(anim: Animation, *, alt: str, frame_format: str = "jpeg") -> str:
    """Render an animation as self-contained JavaScript HTML that works offline (``anim.to_jshtml()``).

    Every frame is embedded in the HTML, so it can be shown in a notebook with
    ``IPython.display.HTML(animation_html(anim, alt=...))`` and survives in a built book without any video
    codec. Frames are JPEG by default: a filled contour plot compresses to about a sixth of its PNG size,
    about 45 kB for a frame of the default size, so that 100 frames stay under 5 MB. Two things of
    matplotlib's player are changed: its buttons, drawn with Font Awesome from a CDN (blank without a
    network), get text glyphs instead, and the frame picture gets ``alt`` as its alternative text. The frames
    are computed once and cached by the animation.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
        For example the result of ``animate_race``.
    alt : str
        What the animation shows, for readers who cannot see it (the ``alt`` text of the frame picture).
    frame_format : str, optional
        The image format of the embedded frames. Default: ``"jpeg"``.

    Returns
    -------
    str
        The HTML.

    Raises
    ------
    ValueError
        If ``anim`` is not a matplotlib animation, ``alt`` is empty, or ``frame_format`` is unknown.

    Examples
    --------
    >>> from lossopt_companion.problems import IllConditionedQuadratic
    >>> from lossopt_companion.second_order import lbfgs
    >>> from lossopt_companion.viz import animate_race, animation_html
    >>> bowl = IllConditionedQuadratic(10.0)
    >>> anim = animate_race(bowl, None, None, {"L-BFGS": lbfgs(bowl, bowl.x0).path})
    >>> html = animation_html(anim, alt="L-BFGS crossing an elliptic bowl")
    >>> # no request off the page (no Font Awesome), the alt text, and a few MB at most
    >>> "https://" in html, 'alt="L-BFGS crossing an elliptic bowl"' in html
    (False, True)
    >>> len(html) < 3_000_000
    True
    """
    if not isinstance(anim, Animation):
        raise ValueError(f"anim must be a matplotlib animation, got {type(anim).__name__}")
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"alt must be a non-empty description of the animation, got {alt!r}")
    if frame_format not in ("jpeg", "png"):
        raise ValueError(f"frame_format must be 'jpeg' or 'png', got {frame_format!r}")
    with mpl.rc_context({"animation.frame_format": frame_format}):
        page = anim.to_jshtml()
    page, found = _FONT_AWESOME.subn("", page)
    for icon, glyph in _BUTTON_GLYPHS.items():
        page = page.replace(icon, f'<span aria-hidden="true">{glyph}</span>')
    if found != 1 or "fa fa-" in page:  # a matplotlib whose player template changed: fail loudly, not offline
        raise RuntimeError("matplotlib's animation template changed; update viz.animation._BUTTON_GLYPHS")
    described = html.escape(alt.strip())
    frame_picture = re.compile(r'<img id="(_anim_img\w+)">')
    return frame_picture.sub(lambda match: f'<img id="{match[1]}" alt="{described}">', page, count=1)
