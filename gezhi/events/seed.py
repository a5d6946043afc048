"""The categories every deployment starts with (administrators edit them afterwards):
GB/T 30428 event classes (市容环境, 宣传广告, 施工管理, 突发事件, 街面秩序), component classes
(公用设施, 道路交通, 市容环境, 园林绿化) and social-governance classes (矛盾纠纷, 安全隐患, 治安,
民生诉求, 特殊人群服务).

Each subclass: (code, name, urgent, handling limit, unit, reopen when the reporter is dissatisfied).
Urgent ones have a 10-minute dispatch limit, the rest 30 working minutes.
"""

H, D, C = "work_hours", "work_days", "days"

CATEGORIES = [
    ("city", "01", "市容环境", [
        ("0101", "私搭乱建", False, 5, D, True), ("0102", "暴露垃圾", False, 4, H, True),
        ("0103", "积存垃圾渣土", False, 1, D, True), ("0104", "道路不洁", False, 4, H, True),
        ("0105", "乱堆物堆料", False, 1, D, True), ("0106", "违规张贴涂写", False, 1, D, False)]),
    ("city", "02", "宣传广告", [
        ("0201", "非法小广告", False, 1, D, False), ("0202", "违规户外广告", False, 5, D, False)]),
    ("city", "03", "施工管理", [
        ("0301", "施工扰民", False, 1, D, True), ("0302", "工地扬尘", False, 1, D, True),
        ("0303", "道路挖掘未恢复", False, 5, D, False)]),
    ("city", "04", "突发事件", [
        ("0401", "路面塌陷", True, 4, H, False), ("0402", "供水管道破裂", True, 4, H, False),
        ("0403", "燃气泄漏", True, 2, H, False), ("0404", "积水内涝", True, 4, H, False)]),
    ("city", "05", "街面秩序", [
        ("0501", "占道经营", False, 1, D, True), ("0502", "店外经营", False, 1, D, True),
        ("0503", "乱停乱放", False, 4, H, False)]),
    ("component", "11", "公用设施", [
        ("1101", "井盖缺损", True, 4, H, False), ("1102", "路灯损坏", False, 3, D, False),
        ("1103", "消防栓损坏", False, 2, D, False)]),
    ("component", "12", "道路交通", [
        ("1201", "交通标志损坏", False, 3, D, False), ("1202", "护栏损坏", False, 3, D, False)]),
    ("component", "13", "市容环境设施", [
        ("1301", "垃圾箱损坏", False, 3, D, False), ("1302", "公厕设施损坏", False, 2, D, True)]),
    ("component", "14", "园林绿化", [
        ("1401", "树木倒伏", True, 4, H, False), ("1402", "绿地毁损", False, 5, D, False)]),
    ("social", "21", "矛盾纠纷", [
        ("2101", "邻里纠纷", False, 5, D, True), ("2102", "婚姻家庭纠纷", False, 10, D, True),
        ("2103", "物业纠纷", False, 10, D, True), ("2104", "劳资纠纷", False, 10, D, True)]),
    ("social", "22", "安全隐患", [
        ("2201", "消防安全隐患", True, 1, D, False), ("2202", "房屋安全隐患", False, 3, D, False),
        ("2203", "电动车违规充电", False, 1, D, False)]),
    ("social", "23", "治安", [
        ("2301", "治安隐患", False, 3, D, False), ("2302", "可疑情况", True, 4, H, False)]),
    ("social", "24", "民生诉求", [
        ("2401", "供水供暖问题", False, 3, D, True), ("2402", "噪音扰民", False, 3, D, True),
        ("2403", "为老服务需求", False, 5, D, True), ("2404", "政策咨询", False, 3, D, True)]),
    ("social", "25", "特殊人群服务", [
        ("2501", "关爱对象帮扶", False, 5, D, True), ("2502", "特殊人群异常情况", True, 1, D, False)]),
]


def seed_categories(Category) -> int:
    """Create the seeded categories that do not exist yet (by code); returns how many."""
    created = 0
    for order, (group, code, name, children) in enumerate(CATEGORIES):
        parent, made = Category.objects.get_or_create(
            code=code, defaults={"name": name, "group": group, "sort_order": order})
        created += made
        for sub_order, (sub_code, sub_name, urgent, limit, unit, reopen) in enumerate(children):
            _, made = Category.objects.get_or_create(code=sub_code, defaults={
                "name": sub_name, "group": group, "parent": parent, "urgent": urgent,
                "dispatch_limit_minutes": 10 if urgent else 30, "handle_limit": limit,
                "handle_limit_unit": unit, "reopen_on_dissatisfied": reopen,
                "sort_order": sub_order})
            created += made
    return created
