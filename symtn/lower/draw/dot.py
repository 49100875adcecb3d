def to_dot(terms, highlight):
    return ""
