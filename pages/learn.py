"""How it learns: a neuron, the cost and gradient descent, backpropagation step by step, and the
loss landscape of the Playground's network. One section at a time, each with its own link
(/learn?section=neuron|descent|backprop|landscape); the sections live in nnviz.ui.learn*."""
from nnviz.ui import learn
from nnviz.ui.layout import page_header

present = page_header("How a network learns")
section = learn.section_picker()
if section == "backprop":
    from nnviz.ui.learn_backprop import backprop_section as view
elif section == "landscape":  # imported only here: it brings in the Playground's session code
    from nnviz.ui.learn_landscape import landscape_section as view
else:
    view = learn.neuron_section if section == "neuron" else learn.descent_section
view(present)
