from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "rapport.plans"
    label = "plans"

    def ready(self) -> None:
        from rapport.core import todo
        from rapport.plans.todo import plan_todos

        todo.register(plan_todos)
