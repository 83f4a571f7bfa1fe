"""Tests of lossopt_companion.viz: every figure renders to PNG with Agg and has the expected content; the
animation is bounded; bad input raises; the core modules never load matplotlib."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lossopt_companion.metrics import calibration_bins, expected_calibration_error  # noqa: E402
from lossopt_companion.problems import Himmelblau, IllConditionedQuadratic, Rosenbrock  # noqa: E402
from lossopt_companion.second_order import lbfgs, newton  # noqa: E402
from lossopt_companion.viz import (  # noqa: E402
    PALETTE,
    animate_race,
    animation_html,
    plot_contours,
    plot_history,
    plot_loss_and_gradient,
    reliability_diagram,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _saved(fig, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    assert path.is_file() and path.stat().st_size > 10_000, "the PNG is missing or nearly empty"
    return path


def _frames_in(html: str) -> int:
    return len(re.findall(r"frames\[\d+\] = \"data:image/", html))


def test_core_modules_do_not_import_matplotlib() -> None:
    code = (
        "import sys; import lossopt_companion.problems, lossopt_companion.second_order, "
        "lossopt_companion.metrics; "
        "print([m for m in ('matplotlib', 'torch', 'tensorflow', 'scipy') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


def test_global_rcparams_are_left_alone(tmp_path: Path) -> None:
    before = dict(matplotlib.rcParams)
    problem = Rosenbrock()
    plot_contours(problem, paths={"L-BFGS": lbfgs(problem, problem.x0).path})
    plot_history({"loss": [1.0, 0.5]})
    after = dict(matplotlib.rcParams)
    assert {key for key in before if before[key] != after[key]} == set()


# --- plot_contours ------------------------------------------------------------------------------------------


def test_contours_with_paths_and_minimizers(tmp_path: Path) -> None:
    problem = Rosenbrock()
    paths = {
        "L-BFGS": lbfgs(problem, problem.x0).path,
        "Newton": newton(problem, problem.x0, hess=problem.hessian).path,
    }
    fig = plot_contours(problem, paths=paths)
    _saved(fig, tmp_path, "contours")
    assert len(fig.axes) == 2  # the plot and its colour bar
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3 * len(paths) + 1  # path, start and end per path, then the minimizers
    trajectory = ax.get_lines()[0]
    np.testing.assert_array_equal(np.column_stack(trajectory.get_data()), paths["L-BFGS"])
    assert trajectory.get_color() == PALETTE[0] and ax.get_lines()[3].get_color() == PALETTE[1]
    stars = ax.get_lines()[-1]
    np.testing.assert_array_equal(np.column_stack(stars.get_data()), problem.minimizers)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == [
        f"L-BFGS ({len(paths['L-BFGS']) - 1} steps)",
        f"Newton ({len(paths['Newton']) - 1} steps)",
        "minimizer",
    ]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("$x_1$", "$x_2$", "Rosenbrock")
    assert ax.get_xlim() == problem.bounds[0] and ax.get_ylim() == problem.bounds[1]


def test_log_levels_are_geometric_above_the_minimum() -> None:
    problem = Rosenbrock()
    fig = plot_contours(problem, levels=12, colorbar=False)
    levels = fig.axes[0].collections[0].levels
    assert len(levels) == 12
    offsets = np.log(levels[1:] - levels[0])
    np.testing.assert_allclose(np.diff(offsets), np.diff(offsets)[0], rtol=1e-10)
    linear = plot_contours(problem, levels=12, log_levels=False, colorbar=False).axes[0].collections[0].levels
    np.testing.assert_allclose(np.diff(linear), np.diff(linear)[0], rtol=1e-10)


def test_a_plain_callable_gives_the_same_landscape_as_the_problem(tmp_path: Path) -> None:
    problem = Himmelblau()
    from_problem = plot_contours(problem, resolution=25, colorbar=False)
    from_pair = plot_contours(lambda x: problem(x), (-5, 5), (-5, 5), resolution=25, colorbar=False)
    from_value = plot_contours(
        lambda x: float(problem.value(x)), (-5, 5), (-5, 5), resolution=25, colorbar=False
    )
    reference = from_problem.axes[0].collections[0].levels
    np.testing.assert_allclose(from_pair.axes[0].collections[0].levels, reference, rtol=1e-12)
    np.testing.assert_allclose(from_value.axes[0].collections[0].levels, reference, rtol=1e-12)
    assert not from_pair.axes[0].get_lines()  # a plain callable has no known minimizers to star
    _saved(from_pair, tmp_path, "callable")


def test_contours_into_given_axes() -> None:
    fig, (left, right) = plt.subplots(1, 2)
    problem = IllConditionedQuadratic(10.0)
    returned = plot_contours(problem, ax=right, colorbar=False, minimizers=[], title="bowl")
    assert returned is fig and len(fig.axes) == 2
    assert right.get_title() == "bowl" and not right.get_lines() and not left.collections


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"paths": {"bad": np.zeros((5, 3))}}, "paths\\['bad'\\]"),
        ({"paths": {"bad": np.zeros(5)}}, "paths\\['bad'\\]"),
        ({"paths": {"bad": [[0.0, np.nan]]}}, "paths\\['bad'\\]"),
        ({"paths": [np.zeros((2, 2))]}, "paths"),
        ({"xlim": (1.0, -1.0)}, "xlim"),
        ({"ylim": (0.0, np.inf)}, "ylim"),
        ({"levels": 1}, "levels"),
        ({"levels": [3.0, 2.0, 1.0]}, "levels"),
        ({"resolution": 5}, "resolution"),
        ({"minimizers": [[1.0, 2.0, 3.0]]}, "minimizers"),
    ],
)
def test_bad_contour_arguments_raise(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        plot_contours(Rosenbrock(), **kwargs)


def test_a_plain_callable_needs_a_box() -> None:
    with pytest.raises(ValueError, match="xlim must be given"):
        plot_contours(lambda x: float(x @ x))


# --- animate_race -------------------------------------------------------------------------------------------


def test_race_frames_follow_the_longest_path_and_finished_paths_stay_put() -> None:
    problem = Himmelblau()
    short = lbfgs(problem, [-0.5, 0.5], max_iter=6).path
    long = np.linspace([-0.5, 0.5], [3.0, 2.0], 15)
    anim = animate_race(problem, None, None, {"short": short, "long": long})
    np.testing.assert_array_equal(anim.frame_steps, np.arange(15))
    html = animation_html(anim, alt="two paths on Himmelblau")
    assert _frames_in(html) == 15 and len(html) < 3_000_000
    overlay = anim._fig.axes[0]
    short_head, long_head = overlay.get_lines()[1], overlay.get_lines()[3]
    anim._draw_frame(len(short) - 1)
    short_at_finish, long_at_finish = np.array(short_head.get_data()), np.array(long_head.get_data())
    anim._draw_frame(14)
    np.testing.assert_array_equal(short_head.get_data(), short_at_finish)  # finished: stays put
    assert not np.array_equal(long_head.get_data(), long_at_finish)  # still running: moves on


def test_long_races_are_subsampled_and_the_html_stays_small() -> None:
    problem = Rosenbrock()
    x, steps = problem.x0.copy(), [problem.x0.copy()]
    for _ in range(1000):  # plain gradient descent: a long, slow path
        x = x - 1e-3 * problem.gradient(x)
        steps.append(x.copy())
    paths = {"GD": np.array(steps), "L-BFGS": lbfgs(problem, problem.x0).path}
    anim = animate_race(problem, None, None, paths)
    assert len(anim.frame_steps) == 100
    assert anim.frame_steps[0] == 0 and anim.frame_steps[-1] == 1000
    html = animation_html(anim, alt="GD and L-BFGS on Rosenbrock")
    assert _frames_in(html) == 100
    # Column-wide JPEG frames (800 x 560 px) of a contour plot take about 45 kB each.
    assert len(html) < 5_000_000, f"{len(html) / 1e6:.2f} MB"


def test_png_frames_can_be_requested() -> None:
    problem = IllConditionedQuadratic(10.0)
    anim = animate_race(problem, None, None, {"L-BFGS": lbfgs(problem, problem.x0).path}, max_frames=4)
    html = animation_html(anim, alt="L-BFGS", frame_format="png")
    assert _frames_in(html) == 4 and "data:image/png" in html


@pytest.mark.parametrize(
    ("paths", "kwargs", "match"),
    [
        ({}, {}, "paths"),
        ({"bad": np.zeros((4, 3))}, {}, "paths"),
        ({"ok": np.zeros((4, 2))}, {"max_frames": 1}, "max_frames"),
        ({"ok": np.zeros((4, 2))}, {"interval": 0}, "interval"),
    ],
)
def test_bad_race_arguments_raise(paths: dict, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        animate_race(Rosenbrock(), None, None, paths, **kwargs)


def test_animation_html_rejects_other_objects() -> None:
    with pytest.raises(ValueError, match="anim"):
        animation_html(plt.figure(), alt="a figure")
    problem = IllConditionedQuadratic(10.0)
    anim = animate_race(problem, None, None, {"L-BFGS": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="frame_format"):
        animation_html(anim, alt="L-BFGS", frame_format="gif")
    with pytest.raises(ValueError, match="alt"):
        animation_html(anim, alt=" ")
    animation_html(anim, alt="L-BFGS")  # render it, so matplotlib does not warn about an unused animation


# --- plot_loss_and_gradient ---------------------------------------------------------------------------------


def test_loss_and_gradient_panels(tmp_path: Path) -> None:
    residual = np.linspace(-3, 3, 121)
    functions = {
        "MSE": (lambda r: r**2, lambda r: 2 * r),
        "MAE": (np.abs, np.sign),
        "Huber": (lambda r: np.where(np.abs(r) <= 1, r**2 / 2, np.abs(r) - 0.5), lambda r: np.clip(r, -1, 1)),
    }
    fig = plot_loss_and_gradient(functions, residual, title="regression losses")
    _saved(fig, tmp_path, "losses")
    loss_ax, grad_ax = fig.axes
    assert len(loss_ax.get_lines()) == len(grad_ax.get_lines()) == len(functions) + 2  # + the two zero lines
    np.testing.assert_array_equal(loss_ax.get_lines()[0].get_ydata(), residual**2)
    np.testing.assert_array_equal(grad_ax.get_lines()[1].get_ydata(), np.sign(residual))
    assert [text.get_text() for text in fig.legends[0].get_texts()] == list(functions)
    assert grad_ax.get_ylabel() == "d loss / d residual" and loss_ax.get_xlabel() == "residual"
    assert fig.get_suptitle() == "regression losses"
    hinge = (lambda m: np.maximum(0, 1 - m), lambda m: -(m < 1.0).astype(float))
    margin = plot_loss_and_gradient({"hinge": hinge}, residual, xlabel="margin")
    assert margin.axes[1].get_ylabel() == "d loss / d margin"


@pytest.mark.parametrize(
    ("functions", "x", "match"),
    [
        ({}, np.linspace(0, 1, 5), "functions"),
        ({"bad": (np.abs,)}, np.linspace(0, 1, 5), "functions\\['bad'\\]"),
        ({"bad": (np.abs, "sign")}, np.linspace(0, 1, 5), "functions\\['bad'\\]"),
        ({"bad": (np.abs, lambda r: r[:-1])}, np.linspace(0, 1, 5), "grad_fn of functions\\['bad'\\]"),
        ({"ok": (np.abs, np.sign)}, np.zeros((2, 3)), "x must be"),
        ({"ok": (np.abs, np.sign)}, [0.0, np.nan], "x must be"),
    ],
)
def test_bad_loss_plot_arguments_raise(functions: dict, x, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        plot_loss_and_gradient(functions, x)


# --- plot_history -------------------------------------------------------------------------------------------


class FakeHistory:
    """Anything with a .history dict is accepted, like the History of training.fit or of Keras."""

    def __init__(self, history: dict[str, list[float]]) -> None:
        self.history = history


def test_history_of_one_run(tmp_path: Path) -> None:
    history = FakeHistory(
        {"loss": [1.0, 0.6, 0.4, 0.3], "val_loss": [1.1, 0.8, 0.7, 0.7], "accuracy": [0.5, 0.7, 0.8, 0.85]}
    )
    fig = plot_history(history, metrics=("loss", "accuracy"))
    _saved(fig, tmp_path, "history")
    loss_ax, accuracy_ax = fig.axes
    train, validation = loss_ax.get_lines()
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(validation.get_ydata(), history.history["val_loss"])
    assert train.get_linestyle() == "-" and validation.get_linestyle() == "--"
    assert len(accuracy_ax.get_lines()) == 1
    assert [text.get_text() for text in fig.legends[0].get_texts()] == ["training", "validation"]
    from_dict = plot_history(history.history)
    assert from_dict.axes[0].get_lines()[0].get_ydata().tolist() == history.history["loss"]


def test_history_of_several_runs_on_a_log_scale() -> None:
    runs = {
        "lr=0.1": FakeHistory({"loss": [1.0, 0.1], "val_loss": [1.0, 0.2]}),
        "lr=0.01": {"loss": [1.0, 0.5, 0.3]},
    }
    fig = plot_history(runs, metrics="loss", log_scale=True, title="two learning rates")
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 3
    colours = [line.get_color() for line in ax.get_lines()]
    assert colours[0] == colours[1] == PALETTE[0] and colours[2] == PALETTE[1]
    assert [text.get_text() for text in fig.legends[0].get_texts()] == [
        "lr=0.1 (training)",
        "lr=0.1 (validation)",
        "lr=0.01 (training)",
    ]


def test_history_names_the_validation_curves_as_asked() -> None:
    runs = {"SGD": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, "Adam": {"val_loss": [0.9, 0.4]}}
    fig = plot_history(runs, validation_label="test")
    legend = [text.get_text() for text in fig.legends[0].get_texts()]
    assert legend == ["SGD (training)", "SGD (test)", "Adam (test)"]
    single = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, validation_label="held-out")
    assert [text.get_text() for text in single.legends[0].get_texts()] == ["training", "held-out"]
    default = plot_history(runs)
    assert [text.get_text() for text in default.legends[0].get_texts()][1] == "SGD (validation)"


@pytest.mark.parametrize(
    ("history", "kwargs", "match"),
    [
        ({"loss": [1.0, 0.5]}, {"validation_label": ""}, "validation_label"),
        ({"loss": [1.0, 0.5]}, {"validation_label": None}, "validation_label"),
        ({"loss": [1.0, 0.5]}, {"metrics": ("accuracy",)}, "metrics"),
        ({"loss": [1.0, 0.5]}, {"metrics": ()}, "metrics"),
        ({"loss": [1.0, 0.0]}, {"log_scale": True}, "log_scale"),
        ({"loss": [[1.0], [0.5]]}, {}, "history\\['loss'\\]"),
        ({"loss": ["a", "b"]}, {}, "history\\['loss'\\]"),
        ({"run": {"loss": [1.0]}, "loss": [1.0]}, {}, "history mixes"),
        ([1.0, 0.5], {}, "history must be"),
        ({}, {}, "history must be"),
    ],
)
def test_bad_history_arguments_raise(history, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        plot_history(history, **kwargs)


# --- reliability_diagram ------------------------------------------------------------------------------------


def test_reliability_diagram(tmp_path: Path, rng: np.random.Generator) -> None:
    logits = rng.normal(size=(400, 4)) * 3
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(4, size=400)
    fig = reliability_diagram(probabilities, labels, n_bins=8, label="model")
    _saved(fig, tmp_path, "reliability")
    diagram_ax, counts_ax = fig.axes
    diagonal, curve = diagram_ax.get_lines()
    np.testing.assert_array_equal(diagonal.get_xdata(), [0, 1])
    bins = calibration_bins(probabilities, labels, n_bins=8)
    filled = bins.counts > 0
    np.testing.assert_allclose(curve.get_xdata(), bins.confidence[filled])
    np.testing.assert_allclose(curve.get_ydata(), bins.accuracy[filled])
    heights = [bar.get_height() for bar in counts_ax.patches]
    assert heights == bins.counts.tolist() and sum(heights) == 400
    ece = expected_calibration_error(probabilities, labels, n_bins=8)
    assert diagram_ax.get_legend().get_texts()[-1].get_text() == f"model (ECE = {ece:.3f})"
    assert diagram_ax.get_xlabel() == "confidence (top-class probability)"
    assert diagram_ax.get_ylabel() == "accuracy"

    # A second model on the same axes: one more curve, still one diagonal, another colour.
    tempered = np.exp(logits / 2) / np.exp(logits / 2).sum(axis=1, keepdims=True)
    assert reliability_diagram(tempered, labels, n_bins=8, ax=fig.axes, label="T=2") is fig
    lines = diagram_ax.get_lines()
    assert len(lines) == 3 and lines[2].get_color() == PALETTE[1]
    assert len(diagram_ax.get_legend().get_texts()) == 3


def test_reliability_diagram_leaves_out_sparse_bins(rng: np.random.Generator) -> None:
    logits = rng.normal(size=(300, 3)) * 4
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(3, size=300)
    bins = calibration_bins(probabilities, labels, n_bins=12)
    min_count = int(np.median(bins.counts[bins.counts > 0]))  # about half of the filled bins are sparser
    kept = bins.counts >= min_count
    assert 0 < kept.sum() < (bins.counts > 0).sum()

    fig = reliability_diagram(probabilities, labels, n_bins=12, min_count=min_count)
    diagram_ax, counts_ax = fig.axes
    curve = diagram_ax.get_lines()[1]
    assert len(curve.get_xdata()) == kept.sum()                   # one point per drawn bin
    np.testing.assert_allclose(curve.get_xdata(), bins.confidence[kept])
    np.testing.assert_allclose(curve.get_ydata(), bins.accuracy[kept])
    assert [bar.get_height() for bar in counts_ax.patches] == bins.counts.tolist()  # every bin still counted
    (threshold,) = counts_ax.get_lines()
    assert threshold.get_ydata()[0] == min_count
    ece = expected_calibration_error(probabilities, labels, n_bins=12)  # the ECE is over all bins
    assert diagram_ax.get_legend().get_texts()[-1].get_text() == f"ECE = {ece:.3f}"

    # min_count = 0 and 1 draw exactly what the default draws, with no threshold line.
    default = reliability_diagram(probabilities, labels, n_bins=12)
    for value in (0, 1):
        other = reliability_diagram(probabilities, labels, n_bins=12, min_count=value)
        np.testing.assert_array_equal(other.axes[0].get_lines()[1].get_xydata(),
                                      default.axes[0].get_lines()[1].get_xydata())
        assert len(other.axes[1].get_lines()) == 0
    assert len(default.axes[0].get_lines()[1].get_xdata()) == (bins.counts > 0).sum()


def test_reliability_diagram_into_one_axes() -> None:
    fig, ax = plt.subplots()
    reliability_diagram([[0.9, 0.1], [0.2, 0.8]], [0, 0], n_bins=2, ax=ax)
    assert len(fig.axes) == 1 and len(ax.get_lines()) == 2
    # Both confidences (0.9 right, 0.8 wrong) fall in (0.5, 1]: |1/2 - 0.85| = 0.35.
    assert ax.get_legend().get_texts()[-1].get_text() == "ECE = 0.350"


@pytest.mark.parametrize(
    ("probabilities", "labels", "kwargs", "match"),
    [
        ([[0.9, 0.1]], [0], {"n_bins": 0}, "n_bins"),
        ([[1.5, -0.5]], [0], {}, "probabilities"),
        ([[0.9, 0.1]], [0, 1], {}, "probabilities"),
        ([[0.9, 0.1]], [0], {"ax": "axes"}, "ax"),
        ([[0.9, 0.1]], [0], {"min_count": -1}, "min_count"),
        ([[0.9, 0.1]], [0], {"min_count": 2.5}, "min_count"),
    ],
)
def test_bad_reliability_arguments_raise(probabilities, labels, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        reliability_diagram(probabilities, labels, **kwargs)


def test_style_context_keeps_interactive_mode_that_a_backend_switched_on() -> None:
    """Jupyter's inline backend calls ``matplotlib.interactive(True)`` when pyplot first sets it up; if that
    happens inside ``style_context`` (a session's first figure drawn by ``viz``), leaving the block must not
    switch it off again, or figures stop appearing at the end of notebook cells."""
    import matplotlib as mpl

    from lossopt_companion.viz import STYLE, style_context

    was_interactive = mpl.is_interactive()
    try:
        mpl.interactive(False)
        with style_context():
            assert mpl.rcParams["font.size"] == STYLE["font.size"]
            mpl.interactive(True)  # what the inline backend does on set-up
        assert mpl.is_interactive()
        with style_context():
            pass
        assert mpl.is_interactive()
        mpl.interactive(False)
        with style_context():
            pass
        assert not mpl.is_interactive()
    finally:
        mpl.interactive(was_interactive)


def test_plot_history_labels_runs_plainly_when_there_is_no_validation_curve() -> None:
    import matplotlib.pyplot as plt

    from lossopt_companion.viz import plot_history

    fig = plot_history({"constant": {"loss": [1.0, 0.5]}, "cosine": {"loss": [1.0, 0.4]}})
    assert [text.get_text() for text in fig.legends[0].get_texts()] == ["constant", "cosine"]
    plt.close(fig)


def test_animation_html_works_offline_and_describes_itself() -> None:
    problem = IllConditionedQuadratic(10.0)
    anim = animate_race(problem, None, None, {"L-BFGS": lbfgs(problem, problem.x0).path}, max_frames=3)
    html = animation_html(anim, alt='L-BFGS "races" <fast>')
    assert "https://" not in html and "http://" not in html  # no stylesheet from a CDN
    assert "fa fa-" not in html and html.count('<span aria-hidden="true">') == 9  # every button has a glyph
    assert 'alt="L-BFGS &quot;races&quot; &lt;fast&gt;"' in html
