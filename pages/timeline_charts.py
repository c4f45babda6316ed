"""The Patient timeline's charts: vitals with forecasts, NEWS2 and the risk curve in one figure; the labs in another."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from medai.timeline.mortality import too_little_data
from medai.timeline.news2 import HIGH, MEDIUM, PARAMETERS as NEWS2_PARAMETERS
from medai.timeline.vocabulary import reference_ranges, variables
from pages.colours import BLUE, BLUISH_GREEN, MID_GREY, ORANGE, VERMILLION

# Arterial line and cuff apart: six pressures with their bands in one panel could not be read apart.
PANELS = (("Heart rate", ("HR",)), ("Blood pressure, arterial line", ("SysABP", "DiasABP", "MAP")),
          ("Blood pressure, cuff", ("NISysABP", "NIDiasABP", "NIMAP")),
          ("Respiratory rate", ("RespRate",)), ("Temperature", ("Temp",)), ("O2 saturation", ("SaO2",)))
# One colour per variable, the same role alike in both pressure panels (systolic blue, diastolic vermillion, mean
# bluish green: Okabe & Ito's colours, apart with red-green colour blindness), and a marker shape for each pressure.
COLOURS = {"HR": "#9467bd", "SysABP": BLUE, "NISysABP": BLUE, "DiasABP": VERMILLION, "NIDiasABP": VERMILLION,
           "MAP": BLUISH_GREEN, "NIMAP": BLUISH_GREEN, "RespRate": ORANGE, "Temp": "#8c564b", "SaO2": "#17becf"}
SYMBOLS = {"SysABP": "triangle-up", "NISysABP": "triangle-up", "DiasABP": "triangle-down", "NIDiasABP": "triangle-down",
           "MAP": "diamond", "NIMAP": "diamond"}
# Mid-tones, legible on the light and the dark theme's background alike (3:1 or more on both).
NEWS2_COLOUR, RISK_COLOUR, ROSE_COLOUR, FELL_COLOUR = MID_GREY, "#9467bd", VERMILLION, "#3a87c8"  # a lighter blue
NEWS2_LEVELS = ((MEDIUM, "#b87d00", "dot", "urgent response"), (HIGH, VERMILLION, "dash", "emergency"))  # dark orange


def unit(name: str) -> str:
    """Unit of variable ``name`` as its axis and legend name it (e.g. "bpm")."""
    return variables()[name].unit


def vitals_figure(view, dark: bool = False) -> go.Figure:
    """Vitals panels with observed points and forecast medians and 80 % bands, then NEWS2 and the risk curve;
    ``dark`` for the dark theme (the NEWS2 labels' boxes follow it)."""
    stay = view.stay
    rows = [(title, [n for n in names if n in stay.observed()]) for title, names in PANELS]
    rows = [(title, names) for title, names in rows if names]
    risk_title = "Mortality risk (%, line) and its hourly change (pp, bars)" + (
        ": rough guesses, too little data" if too_little_data(stay) else "")  # as the headline's "—" says
    unscored = bool(len(view.news2.missing)) and bool((view.news2.missing > len(NEWS2_PARAMETERS) / 2).all())
    news2_title = "NEWS2 (points)" + (": not scored, most of its parameters not recorded" if unscored else "")
    titles = [f"{t} ({unit(n[0])})" for t, n in rows] + [news2_title, risk_title]
    # The risk panel's bars get their own axis on the right: a change in percentage points is not a risk.
    specs = [[{}]] * (len(titles) - 1) + [[{"secondary_y": True}]]
    figure = make_subplots(rows=len(titles), cols=1, shared_xaxes=True, subplot_titles=titles, vertical_spacing=0.03,
                           specs=specs)
    for row, (_, names) in enumerate(rows, start=1):
        for name in names:
            colour, (times, values) = COLOURS[name], stay.series(name)
            shown_name = variables()[name].label
            # One legend entry per variable: hiding it hides its forecast and band too.
            figure.add_trace(go.Scatter(x=times, y=values, mode="markers+lines", name=f"{shown_name} ({unit(name)})",
                                        legendgroup=name,
                                        marker={"size": 6 if name in SYMBOLS else 4, "color": colour,
                                                "symbol": SYMBOLS.get(name, "circle")},
                                        line={"width": 1, "color": colour}), row=row, col=1)
            points = [f for f in view.forecasts if f.variable == name]
            if points:
                # From the last observation, not from "now": an old value must not look like a new reading.
                x, last = [float(times[-1])] + [f.time for f in points], values[-1]
                figure.add_trace(go.Scatter(x=x + x[::-1], y=[last] + [f.p90 for f in points]
                                            + [f.p10 for f in points][::-1] + [last], mode="lines", fill="toself",
                                            opacity=0.2, line={"width": 0, "color": colour}, legendgroup=name,
                                            name=f"{shown_name} 80 % interval", showlegend=False, hoverinfo="skip"),
                                 row=row, col=1)
                figure.add_trace(go.Scatter(x=x, y=[last] + [f.p50 for f in points], mode="lines", legendgroup=name,
                                            line={"dash": "dash", "color": colour}, showlegend=False,
                                            name=f"{shown_name} forecast (median)"), row=row, col=1)
    news_row, risk_row = len(rows) + 1, len(rows) + 2
    # Fixed colours: the same line looks the same for every patient, and never like the risk bars.
    # An hour when most parameters were unrecorded is no score (each would count 0, as if normal): a gap, as "—".
    scored = np.where(view.news2.missing > len(NEWS2_PARAMETERS) / 2, np.nan, view.news2.total)
    figure.add_trace(go.Scatter(x=view.news2.hours, y=scored, mode="lines",
                                line={"shape": "hv", "color": NEWS2_COLOUR}, name="NEWS2"), row=news_row, col=1)
    # Labels on the right, over the forecast hours, where the NEWS2 line has ended.
    # A box of the page's own background keeps each label legible where the NEWS2 line crosses it.
    box, ink = ("rgba(23, 22, 20, 0.85)", "#fafafa") if dark else ("rgba(255, 255, 255, 0.85)", "#31333f")
    for level, colour, dash, meaning in NEWS2_LEVELS:  # dotted 5, dashed 7: apart without their colours too
        figure.add_hline(y=level, line={"dash": dash, "color": colour}, row=news_row, col=1,
                         annotation_text=f"{level}: {meaning}", annotation_position="top right",
                         annotation_bgcolor=box, annotation_font_color=ink)
    figure.add_trace(go.Scatter(x=view.risk_hours, y=100 * view.risk_curve, mode="lines+markers",
                                marker={"size": 4, "color": RISK_COLOUR}, line={"color": RISK_COLOUR},
                                name="mortality risk (%)"), row=risk_row, col=1)
    change = np.diff(100 * view.risk_curve, prepend=100 * view.risk_curve[:1])
    for rose, colour, what in ((True, ROSE_COLOUR, "rose"), (False, FELL_COLOUR, "fell")):  # a legend swatch each
        hours = (change > 0) == rose
        figure.add_trace(go.Bar(x=view.risk_hours[hours], y=change[hours], marker={"color": colour}, opacity=0.9,
                                name=f"risk {what} that hour (percentage points)"), row=risk_row, col=1,
                         secondary_y=True)
    # Symmetric about 0, with 0 a tick (an overlaying axis otherwise syncs its ticks to the risk axis's).
    reach = 1.15 * max(1.0, float(np.max(np.abs(change))))
    step = next(s for s in (0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100) if 3 * s >= reach)
    figure.update_yaxes(title_text="pp", row=risk_row, col=1, secondary_y=True, showgrid=False, zeroline=True,
                        range=[-reach, reach], tickmode="linear", tick0=0, dtick=step)
    figure.update_xaxes(title_text="hours since ICU admission", row=risk_row, col=1)
    plot_height = 190 * len(titles) - 80
    # The legend hangs a fixed 70 px below the plot area (clear of the axis title), however many panels.
    figure.update_layout(height=plot_height + 40 + 190, margin={"l": 50, "r": 30, "t": 40, "b": 190},
                         legend={"orientation": "h", "y": -70 / plot_height, "yanchor": "top"})
    return figure


def labs_figure(stay) -> go.Figure | None:
    """Up to nine of the most measured labs, one small panel each, over a green band of the typical adult
    reference interval where there is one."""
    counts = {n: len(stay.series(n)[0]) for n in stay.observed() if variables()[n].group == "lab"}
    shown = sorted(counts, key=lambda n: -counts[n])[:9]
    if not shown:
        return None
    columns = 3
    figure = make_subplots(rows=int(np.ceil(len(shown) / columns)), cols=columns, shared_xaxes=True,
                           subplot_titles=[f"{variables()[n].label} ({unit(n)})" for n in shown])
    for k, name in enumerate(shown):
        times, values = stay.series(name)
        row, col = k // columns + 1, k % columns + 1
        figure.add_trace(go.Scatter(x=times, y=values, mode="markers+lines", name=name, showlegend=False),
                         row=row, col=col)
        if name in reference_ranges():  # the band sets the scale: 137 → 136 mmol/L must not look dramatic
            low, high = reference_ranges()[name]
            figure.add_hrect(y0=low, y1=high, fillcolor="seagreen", opacity=0.12, line_width=0, row=row, col=col)
            bottom, top = min(low, float(np.min(values))), max(high, float(np.max(values)))
            margin = 0.25 * (top - bottom)  # the band's edges stay in sight
            figure.update_yaxes(range=[bottom - margin, top + margin], row=row, col=col)
    figure.update_xaxes(showticklabels=True)  # every panel keeps its time axis, not only the bottom row
    figure.update_xaxes(title_text="hours since ICU admission", row=int(np.ceil(len(shown) / columns)))
    # A taller top margin keeps the first row's titles clear of the chart's toolbar.
    figure.update_layout(height=230 * int(np.ceil(len(shown) / columns)) + 30,
                         margin={"l": 40, "r": 20, "t": 70, "b": 40})
    return figure
