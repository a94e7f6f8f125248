def test_add_small():
    pass


def test_add_negative():
    pass
