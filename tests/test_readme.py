"""The README's Python examples run as written and do what they say."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_python_examples_run_and_learn_the_flower():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    for block in blocks[:2]:                       # the five-line examples of each side
        exec(compile(block, "README.md", "exec"), namespace)
        assert namespace["costs"][-1] < 0.3
    assert namespace["net"].accuracy(namespace["X"], namespace["y"]) > 0.9
    exec(compile(blocks[2].replace("iterations=500", "iterations=20"), "README.md", "exec"), namespace)
    assert namespace["report"].passed
