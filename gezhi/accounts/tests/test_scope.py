from gezhi.accounts.scope import scope_for, visible_to
from gezhi.regions.models import GridPost, Region


def test_grid_worker_scope_is_their_grid(world):
    scope = scope_for(world.user("worker_a1"))
    assert scope.paths == (world.grid_a1.path,)
    visible = set(visible_to(Region.objects.all(), world.user("worker_a1")))
    assert visible == {world.grid_a1}


def test_dispatcher_sees_subdistrict_subtree(world):
    visible = set(visible_to(Region.objects.all(), world.user("dispatcher_a")))
    assert visible == {world.sub_a, world.comm_a1, world.grid_a1, world.grid_a2}


def test_admin_sees_everything_and_resident_nothing(world):
    assert visible_to(Region.objects.all(), world.user("admin")).count() == Region.objects.count()
    assert visible_to(Region.objects.all(), world.user("resident")).count() == 0


def test_handler_scope_is_department_area(world):
    visible = set(visible_to(Region.objects.all(), world.user("handler")))
    assert world.grid_a1 in visible and world.grid_b1 not in visible


def test_related_models_use_the_same_filter(world):
    posts = visible_to(GridPost.objects.all(), world.user("worker_b1"))
    assert {p.grid for p in posts} == {world.grid_b1}
