"""Break (/break): adversarial examples against the session's own digit network."""
import streamlit as st

from nnviz.ui import break_views as views
from nnviz.ui import classroom as class_ui
from nnviz.ui.layout import page_header
from nnviz.ui.session import bundled_digits, digit_model, has_own_model
from nnviz.ui.text import plain

present = page_header("Can we break a neural network?",
                      "A change too small to notice, aimed with the network's own gradient, flips its answer. "
                      "Random noise of the same size does not.")
trained = digit_model()
whose = "Target: this session's model" if has_own_model() else "Target: the default model"
st.caption(f":material/my_location: {whose}: {plain(trained.description)}; "
           f"{trained.test_acc:.1%} right on the 1,000 public held-out digits.")
model, data = trained.model, bundled_digits()
class_ui.break_class_tab(present)  # only in round 2 of a class this session joined: attack a classmate

tab_attack, tab_fool, tab_why, tab_robust = st.tabs(
    ["Attack a digit", "Fooling images", "Why it works", "Robustness and defence"],
    key="break_tab", on_change="rerun")

if tab_attack.open is not False:
    with tab_attack:
        views.attack_tab(model, data, present)
if tab_fool.open:
    with tab_fool:
        views.fooling_tab(model, present)
if tab_why.open:
    with tab_why:
        views.why_tab(trained, data, present)
if tab_robust.open:
    with tab_robust:
        views.robustness_tab(trained, data, present)
