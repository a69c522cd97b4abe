"""Every name a function of the bench's Python reads is bound somewhere it
can see: its own locals (arguments, assignments, loop and with targets,
imports, nested functions), the module's globals, or the builtins. A
full run takes ten minutes before it reaches row 5; a name left unbound
by moving code into a function (as rows 1 and 2's once were) would stop
it there with a NameError, and no quick test runs that far."""

import ast
import builtins
import os
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ["bench.py", "bench_pg.py", "variance.py"]


def bound_in(node):
    """the names a module or function body binds itself"""
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store,
                                                         ast.Del)):
            names.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                            ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                names.add((a.asname or a.name).split(".")[0])
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            names.update(n.names)
    return names


def unbound(path):
    """(function, name, line) of each name read and bound nowhere"""
    tree = ast.parse(open(path).read(), path)
    known = set(dir(builtins)) | {"__file__", "__name__"}
    for n in tree.body:
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            known.add(n.name)
        elif isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign,
                            ast.Import, ast.ImportFrom, ast.For, ast.If,
                            ast.With, ast.Try)):
            known |= bound_in(n)
    # a function with the functions in it: a closure sees its outer
    # function's names (and the outer, erring wide, the closure's)
    tops = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    for c in tree.body:
        if isinstance(c, ast.ClassDef):
            tops += [n for n in c.body if isinstance(n, ast.FunctionDef)]
    found = []
    for f in tops:
        local = bound_in(f)
        for n in ast.walk(f):
            if (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                    and n.id not in local and n.id not in known):
                found.append((f.name, n.id, n.lineno))
    return found


class FreeNames(unittest.TestCase):

    def test_bench_scripts(self):
        for name in FILES:
            path = os.path.join(HERE, "..", name)
            self.assertEqual(unbound(path), [], name)

    def test_finds_one(self):
        # the fault it is for: a function reading another's local
        src = ("def a():\n    r1 = 1\n    return r1\n\n"
               "def b():\n    return r1 + 1\n")
        with tempfile.NamedTemporaryFile("w", suffix=".py",
                                         delete=False) as f:
            f.write(src)
            path = f.name
        try:
            self.assertEqual(unbound(path), [("b", "r1", 6)])
        finally:
            os.unlink(path)


if __name__ == "__main__":
    unittest.main()
