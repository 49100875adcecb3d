def to_tikz(scene):
    return ""
