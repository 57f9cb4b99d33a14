"""Plot helpers shared by report.py and compare.py: headless matplotlib, one way to save a figure."""
import os

import matplotlib
import numpy as np

matplotlib.use("Agg")  # headless: no display on clusters or CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from esm_files import InputError  # noqa: E402


def output_dir(path):
    """Creates `path` (and parents) if needed; InputError when that is impossible."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create '{path}': {e.strerror}") from None
    return path


def plain_log_axis(axis):
    """Log-scale ticks at 1, 2, 5 x 10^k written as plain numbers (0.5, 2, 10), so that an axis
    spanning less than a decade still has labelled ticks."""
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def agreement_axes(ax, x, y, label):
    """Log-log axes with the line y = x (legend `label`) and its ±10% band, spanning x and y."""
    line = np.array([min(np.min(x), np.min(y)), max(np.max(x), np.max(y))])
    ax.plot(line, line, color="black", linewidth=1, label=label)
    ax.fill_between(line, 0.9 * line, 1.1 * line, color="grey", alpha=0.2, label="±10%")
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_axis(ax.xaxis)
    plain_log_axis(ax.yaxis)


def save(fig, out_dir, name):
    """Writes `fig` as out_dir/name (PNG), closes it and returns the path."""
    path = os.path.join(out_dir, name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
