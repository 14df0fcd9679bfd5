"""The /learn page's equations as LaTeX with the numbers in them (st.latex draws them).

Nielsen's notation: w^l_{jk} goes from neuron k of layer l-1 to neuron j of layer l (the
engine's W_l[k, j]); delta^l_j = dC/dz^l_j. Every function returns a list of lines.
"""
from __future__ import annotations

import numpy as np

from nnviz.lab.backprop import BackpropStep

F_TEX = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\mathrm{ReLU}", "leaky_relu": r"\mathrm{LReLU}", "linear": r"\mathrm{id}", "softmax": r"\mathrm{softmax}"}
# f'(z) written through a = f(z), as the engine computes it.
DERIVATIVE_TEX = {"sigmoid": r"a(1-a)", "tanh": r"1-a^2", "relu": r"[z>0]", "leaky_relu": r"(1 \text{ or } 0.01)",
                  "linear": r"1"}
COST_TEX = {"quadratic": r"C = \tfrac12 \sum_j (a^L_j - y_j)^2",
            "cross_entropy": r"C = -\sum_j y_j \ln a^L_j"}
STAGES = 6  # the slide's five steps, then the update


def num(v: float, digits: int = 4) -> str:
    """A number for an equation: at most `digits` decimals, no trailing zeros (0.15, not
    0.150000000), a true minus sign, no '-0'."""
    s = f"{float(v):.{digits}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if float(s) == 0:
        s = "0"
    return s.replace("-", "{-}")


def sig(v: float, digits: int = 4) -> str:
    """A number with `digits` significant digits, never in e-notation: 0.0004386, 0.5933."""
    s = np.format_float_positional(float(v), precision=digits, unique=False, fractional=False, trim="-")
    s = s.rstrip(".")
    return "0" if float(s) == 0 else s.replace("-", "{-}")


def fac(v: float, digits: int = 4, significant: bool = False) -> str:
    r"""A factor in a product: a negative number in brackets, 0.4 \cdot ({-}0.038)."""
    s = sig(v, digits) if significant else num(v, digits)
    return f"({s})" if s.startswith("{-}") else s


def _term(w: float, a: float, digits: int, first: bool) -> str:
    """'0.15 \\cdot 0.05' with the sign folded into + / - between terms."""
    sign = "" if first else (" + " if w >= 0 else " - ")
    w_shown = num(w if first else abs(w), digits)
    return f"{sign}{w_shown} \\cdot {fac(a, digits)}"


def neuron_tex(w1: float, w2: float, b: float, activation: str, x1: float, x2: float, a: float) -> str:
    """a = f(w1 x1 + w2 x2 + b) with the numbers: 'a = \\sigma(0.8 \\cdot 0.5 - 1.2 \\cdot 0.3 + 0.1) = ...'."""
    z = w1 * x1 + w2 * x2 + b
    inner = _term(w1, x1, 2, True) + _term(w2, x2, 2, False) + (" + " if b >= 0 else " - ") + num(abs(b), 2)
    return (f"a = {F_TEX[activation]}({inner}) = {F_TEX[activation]}({num(z, 3)}) = "
            f"\\mathbf{{{num(a, 3)}}}")


def _layer_name(l: int, L: int) -> str:
    return "output layer" if l == L else f"hidden layer {l}"


def stage_tex(step: BackpropStep, stage: int, digits: int = 4) -> list[str]:
    """The equation of stage 1-6 in general, then once per neuron or link with the numbers."""
    ex, t = step.example, step.trace
    model = ex.model
    sizes, act, out = model.sizes, model.arch.activation, model.arch.output
    L = len(sizes) - 1
    d = lambda v: sig(v, 4)  # noqa: E731 (the factors: 4 significant digits, so a line fits a slide)
    r = lambda v: num(v, digits)  # noqa: E731 (the results, in bold: as many digits as asked)
    vec = lambda v: r"\left(" + ",\\ ".join(d(x) for x in v) + r"\right)"  # noqa: E731
    if stage == 1:
        return [r"a^0 = x = " + vec(ex.x[0]), r"y = " + vec(ex.y[0]) + r" \quad \text{(the target)}"]
    if stage == 2:
        lines = [r"z^l = w^l a^{l-1} + b^l, \qquad a^l = f(z^l)"]
        for l in range(1, L + 1):
            f = F_TEX[out if l == L else act]
            w, b, prev = model.weights[l - 1], model.biases[l - 1], (ex.x if l == 1 else t.a[l - 2])[0]
            for j in range(sizes[l]):
                terms = "".join(_term(w[k, j], prev[k], min(digits, 4), k == 0) for k in range(sizes[l - 1]))
                bias = (" + " if b[j] >= 0 else " - ") + d(abs(b[j]))
                z, a = t.z[l - 1][0, j], t.a[l - 1][0, j]
                shown = f"{f}(z^{l})_{j + 1}" if l == L and out == "softmax" else f"{f}({d(z)})"
                lines.append(f"z^{l}_{j + 1} = {terms}{bias} = {r(z)}")
                lines.append(f"a^{l}_{j + 1} = {shown} = \\mathbf{{{r(a)}}}")
        lines.append(COST_TEX[model.arch.loss] + f" = \\mathbf{{{num(step.cost_before, max(digits, 6))}}}")
        return lines
    if stage == 3:
        return _output_error(step, d, r)
    if stage == 4:
        if L == 1:
            return [r"\text{No hidden layer: the output error is the only } \delta."]
        lines = [r"\delta^l = \left((w^{l+1})^T \delta^{l+1}\right) \odot f'(z^l), \qquad f'(z) = "
                 + DERIVATIVE_TEX[act]]
        for l in range(L - 1, 0, -1):
            w_next, delta_next = model.weights[l], t.delta[l][0]
            for j in range(sizes[l]):
                a = t.a[l - 1][0, j]
                back = "".join(_term(w_next[j, k], delta_next[k], min(digits, 4), k == 0) for k in range(sizes[l + 1]))
                lines.append(f"\\delta^{l}_{j + 1} = ({back}) \\cdot {_derivative(act, a, t.z[l - 1][0, j], d)}"
                             f" = \\mathbf{{{r(t.delta[l - 1][0, j])}}}")
        return lines
    if stage == 5:
        lines = [r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j, \qquad "
                 r"\frac{\partial C}{\partial b^l_j} = \delta^l_j \qquad \text{(finite difference in brackets)}"]
        for l in range(1, L + 1):
            prev = (ex.x if l == 1 else t.a[l - 2])[0]
            for j in range(sizes[l]):
                for k in range(sizes[l - 1]):
                    g, fd = t.grads.weights[l - 1][k, j], step.numeric.weights[l - 1][k, j]
                    lines.append(f"\\frac{{\\partial C}}{{\\partial w^{l}_{{{j + 1}{k + 1}}}}} = {d(prev[k])} \\cdot "
                                 f"{fac(t.delta[l - 1][0, j], 4, True)} = \\mathbf{{{r(g)}}} \\quad ({r(fd)})")
        return lines
    return _update(step, d, r, digits)


def _derivative(act: str, a: float, z: float, d) -> str:
    if act == "sigmoid":
        return f"{d(a)}(1 - {d(a)})"
    if act == "tanh":
        shown = d(a)
        return f"(1 - ({shown})^2)" if shown.startswith("{-}") else f"(1 - {shown}^2)"
    if act == "relu":
        return "1" if z > 0 else "0"
    if act == "leaky_relu":
        return "1" if z > 0 else "0.01"
    return "1"


def _output_error(step: BackpropStep, d, r) -> list[str]:
    ex, t = step.example, step.trace
    out, loss = ex.model.arch.output, ex.model.arch.loss
    a, y, delta = t.a[-1][0], ex.y[0], t.delta[-1][0]
    L = len(ex.model.sizes) - 1
    if loss == "cross_entropy" or out == "linear":
        why = {"softmax": "softmax with cross-entropy", "sigmoid": "sigmoid with cross-entropy",
               "linear": "a linear output with the quadratic cost"}[out]
        lines = [r"\delta^L = \frac{\partial C}{\partial z^L} = a^L - y \qquad \text{(" + why + ")}"]
        lines += [f"\\delta^{L}_{j + 1} = {d(a[j])} - {fac(y[j], 9)} = \\mathbf{{{r(delta[j])}}}" for j in range(len(a))]
        return lines
    if out == "sigmoid":
        lines = [r"\delta^L = \nabla_a C \odot \sigma'(z^L) = (a^L - y) \odot a^L (1 - a^L)"]
        lines += [f"\\delta^{L}_{j + 1} = ({d(a[j])} - {d(y[j])}) \\cdot {d(a[j])}(1 - {d(a[j])}) = "
                  f"\\mathbf{{{r(delta[j])}}}" for j in range(len(a))]
        return lines
    g = a - y  # softmax with the quadratic cost: the Jacobian of softmax times (a - y)
    lines = [r"\delta^L = a^L \odot \left(g - \langle g, a^L \rangle\right), \quad g = a^L - y"
             r"\qquad \text{(softmax: every output moves every } a)"]
    inner = float(g @ a)
    lines += [f"\\delta^{L}_{j + 1} = {d(a[j])} \\cdot ({d(g[j])} - {fac(inner, 9)}) = \\mathbf{{{r(delta[j])}}}"
              for j in range(len(a))]
    return lines


def _update(step: BackpropStep, d, r, digits: int) -> list[str]:
    ex, t = step.example, step.trace
    sizes = ex.model.sizes
    lines = [f"w \\leftarrow w - \\eta \\frac{{\\partial C}}{{\\partial w}}, \\quad \\eta = {ex.eta:g}"
             + ("" if ex.update_biases else r" \qquad \text{(biases kept, as in the source)}")]
    for l in range(1, len(sizes)):
        for j in range(sizes[l]):
            for k in range(sizes[l - 1]):
                w, g, new = ex.model.weights[l - 1][k, j], t.grads.weights[l - 1][k, j], step.after.weights[l - 1][k, j]
                lines.append(f"w^{l}_{{{j + 1}{k + 1}}} = {d(w)} - {ex.eta:g} \\cdot {fac(g, 4, True)} = "
                             f"\\mathbf{{{r(new)}}}")
    cost_digits = max(digits, 6)
    change = step.cost_after - step.cost_before
    lines.append(f"C: {num(step.cost_before, cost_digits)} \\rightarrow \\mathbf{{{num(step.cost_after, cost_digits)}}}"
                 f" \\quad ({'+' if change >= 0 else ''}{num(change, cost_digits)})")
    return lines



def aligned(lines: list[str]) -> str:
    """The lines as one display, aligned at their first '=' (one st.latex, tight line spacing)."""
    rows = [line.replace("=", "&=", 1) if "=" in line else "&" + line for line in lines]
    return r"\begin{aligned}" + r" \\[3pt] ".join(rows) + r"\end{aligned}"
