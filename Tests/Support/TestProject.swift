/// A small Markpact project shared by the DSL and control API tests: deps, two Python files, a run block.
public enum TestProject {
    public static let readme = """
        # Control demo

        ```text markpact:deps python
        fastapi
        ```

        ```python markpact:file path=app/main.py
        def main():
            return 1
        ```

        ```python markpact:file path=app/models.py
        class Task:
            pass
        ```

        ```bash markpact:run
        echo run
        ```

        """

    public static let mainBlock = "markpact:file=app/main.py"
    public static let depsBlock = "markpact:deps=python"
}
