"""Write the demo datasets in this folder. Deterministic: same code, byte-identical files.

Run from the repository root: `python datasets/_make.py`. All text is written for swiftpipe.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# -- counselling_zh.sharegpt.jsonl ---------------------------------------------------------

ZH_SYSTEM = "你是一位温和、专业的心理咨询师。先倾听和共情，再给出具体、可执行的小建议，不做医学诊断。"

# (three openers, reply, follow-up question, follow-up reply)
ZH_TOPICS: list[tuple[list[str], str, str, str]] = [
    (
        [
            "最近总是失眠，躺下两个小时还睡不着。",
            "我晚上脑子停不下来，一直在想白天的事。",
            "连续一周凌晨三点才睡着，白天很没精神。",
        ],
        "听起来你这段时间真的很累。睡不着的时候，身体躺着，脑子却还在加班。可以先试试固定起床时间，"
        "睡前一小时把手机放远一点，把脑子里的事写在纸上，告诉自己明天再处理。",
        "如果写完还是睡不着怎么办？",
        "那就别硬躺着。起身到光线暗一点的地方，做点单调的事，比如叠衣服或慢慢读纸质书，有困意了再回床上。"
        "床只留给睡觉，慢慢身体会重新把床和睡意联系起来。",
    ),
    (
        [
            "下个月就要考研了，我每天都很焦虑。",
            "一想到考试我就心跳加速，手心出汗。",
            "家里人都在等我的成绩，我压力特别大。",
        ],
        "考前紧张是很常见的反应，说明你很在乎这件事。我们可以把“担心考不好”拆成具体的小任务："
        "今天复习哪一章、做几套题。焦虑来的时候，试试慢慢吸气四秒、停两秒、呼气六秒，重复几次。",
        "可是我一停下来就觉得在浪费时间。",
        "休息不是浪费，是让大脑整理刚学的内容。可以把休息也写进计划里，比如每学五十分钟休息十分钟，"
        "这样休息就成了计划的一部分，而不是偷懒。",
    ),
    (
        [
            "工作三年了，每天上班都提不起劲。",
            "我觉得自己像一台机器，做完一件又来一件。",
            "周日晚上一想到周一要上班就烦。",
        ],
        "长期的疲惫和麻木，常常是倦怠的信号，不是你不够努力。可以先回顾一下：最近有没有哪一件工作让你"
        "稍微有点成就感？把这些小时刻记下来，也留意一下哪些任务最消耗你。",
        "知道了又能怎样，工作还是那些工作。",
        "完全改变工作可能一时做不到，但可以调整一小部分：和领导沟通优先级、给自己设下班的边界、"
        "每周安排一件和工作无关但让你期待的事。先从一件最容易的开始。",
    ),
    (
        [
            "我和室友因为卫生问题吵了好几次。",
            "室友总是很晚回来，声音很大，我很生气。",
            "我不敢跟室友说我的不满，只能憋着。",
        ],
        "和朝夕相处的人有摩擦，确实让人很难受。与其在情绪最激动的时候说，不如找一个双方都平静的时间，"
        "用“我”开头描述感受，比如“我晚上被吵醒后第二天很难集中精神”，再一起商量规则。",
        "万一她不接受呢？",
        "那也没关系，你已经清楚表达了自己的需要。可以先提一个很小、容易做到的约定，看看执行情况，"
        "必要时再请宿管或其他人帮忙协调。",
    ),
    (
        [
            "父母总是催我结婚，每次回家都吵架。",
            "我妈天天给我介绍对象，我真的很烦。",
            "过年不想回家，因为一回去就被问婚事。",
        ],
        "被最亲近的人反复施压，会让人既委屈又内疚。父母的催促背后往往是担心，但这不代表你必须按他们的"
        "时间表生活。你可以先想清楚自己真正的想法，再决定怎样平静地表达。",
        "我怕说了他们会伤心。",
        "担心他们伤心，说明你很在意他们。可以先肯定他们的关心，再说出你的安排，比如“我知道你们是为我好，"
        "我也在认真考虑，但需要按自己的节奏来”。一次谈不完没关系，这是一个慢慢沟通的过程。",
    ),
    (
        ["来到新城市半年了，还是没有朋友。", "下班回到出租屋，只有我一个人，很孤单。", "周末常常一整天不说一句话。"],
        "一个人在陌生的城市打拼，孤独感很真实，也很常见。交朋友需要重复的接触，可以找一个固定的活动，"
        "比如每周一次的读书会、运动小组或志愿服务，让见面变成习惯。",
        "我性格比较内向，不太会主动聊天。",
        "内向的人也能建立很好的关系，只是方式不同。可以从小的互动开始：记住别人的名字、下次见面问一句"
        "上次聊到的事。比起会说话，真诚地倾听更容易让人愿意靠近。",
    ),
    (
        ["我做事总是拖到最后一刻。", "明明知道要写报告，就是一直刷手机。", "每次拖延完都很自责，可下次还是这样。"],
        "拖延常常不是懒，而是任务让人感到压力或不确定。可以把任务切到小到不会抗拒，比如“只打开文档写"
        "标题”，开始之后往往就能继续下去。",
        "那自责的时候怎么办？",
        "自责会让人更想逃避。试着像对待朋友那样对自己说话：“这次又拖了，我有点失望，但我可以现在做"
        "五分钟。”把注意力放回下一步，而不是过去的失败。",
    ),
    (
        ["我在人多的场合会特别紧张，说话发抖。", "开会轮到我发言时，脑子一片空白。", "我很害怕在别人面前出丑。"],
        "在众人面前紧张，是很多人都会有的体验。可以提前把要说的三个要点写在卡片上，发言前做几次缓慢的"
        "呼吸，也可以先在信任的人面前练习。",
        "练习了还是会紧张。",
        "紧张不需要完全消失，能带着一点紧张把话说完，就是进步。每次发言后记下一件做得不错的地方，"
        "慢慢你会积累对自己的信心。",
    ),
    (
        ["分手两个月了，我还是走不出来。", "我总是忍不住去看前任的朋友圈。", "一想到过去的回忆就会哭。"],
        "结束一段重要的关系，伤心和反复是正常的哀伤过程，不需要急着“走出来”。可以减少触发回忆的东西，"
        "比如暂时屏蔽对方的动态，同时多和支持你的朋友待在一起。",
        "我是不是永远都好不了了？",
        "现在的痛苦很强烈，但情绪是会流动的。很多人会发现，某一天想起这段关系时，心里不那么疼了。"
        "如果低落持续影响到吃饭、睡觉和工作，也可以考虑寻求专业的面对面帮助。",
    ),
    (
        ["孩子上初中后就不愿意和我说话了。", "我儿子一回家就关上房门。", "我跟女儿一说学习她就发脾气。"],
        "孩子进入青春期，开始需要更多的独立空间，这是成长的一部分。可以少一点追问成绩，多一点关心"
        "他们感兴趣的事，先让交流变得轻松。",
        "可我真的很担心他的成绩。",
        "担心是可以理解的。可以约一个固定、简短的时间聊学习，其余时间就聊别的。先修复关系，"
        "孩子才更愿意在遇到困难时主动来找你。",
    ),
    (
        ["我总觉得自己什么都做不好。", "看到同学都比我优秀，我很自卑。", "别人夸我，我也觉得他们只是客气。"],
        "总是否定自己，会让人很疲惫。可以试着每天写下三件自己做到了的小事，哪怕只是按时吃饭。"
        "我们常常对自己特别苛刻，却看不到已经付出的努力。",
        "这些小事有什么意义？",
        "小事的意义在于训练你注意到自己的能力。自我评价像一副戴久了的眼镜，需要不断地练习，"
        "才能看到更完整、更公平的自己。",
    ),
    (
        ["最近总是莫名其妙地心慌。", "我一个人在家的时候会突然很害怕。", "我担心自己是不是得了什么病。"],
        "突然的心慌和害怕会让人很不安。先确认一下身体情况，必要时去医院做个检查，排除身体原因。"
        "心慌来的时候，可以把注意力放在脚踩地面的感觉上，慢慢呼吸。",
        "检查了没问题，可还是会这样。",
        "身体没问题是好消息，这种反应可能和长期压力有关。可以记录一下每次心慌前发生了什么，找出规律。"
        "如果频繁发生，建议预约专业的心理咨询，系统地学习应对方法。",
    ),
]


def counselling_rows() -> list[dict[str, Any]]:
    rows = []
    for i, (openers, reply, follow_q, follow_a) in enumerate(ZH_TOPICS):
        for v, opener in enumerate(openers):
            turns = [{"from": "human", "value": opener}, {"from": "gpt", "value": reply}]
            if (i + v) % 3 != 0:
                turns += [{"from": "human", "value": follow_q}, {"from": "gpt", "value": follow_a}]
            if (i + v) % 2 == 0:
                turns.insert(0, {"from": "system", "value": ZH_SYSTEM})
            rows.append({"conversations": turns})
    return rows


# -- recipes.alpaca.json -------------------------------------------------------------------

DISHES = [
    (
        "tomato and lentil soup",
        "red lentils, a tin of chopped tomatoes, one onion, two garlic cloves, "
        "a teaspoon of cumin and a litre of vegetable stock",
        "Soften the onion and garlic in olive oil, "
        "stir in the cumin for a minute, add the lentils, tomatoes and stock, and simmer for 25 minutes "
        "until the lentils collapse. Blend half of it for a creamy texture and season with salt and lemon.",
    ),
    (
        "banana oat pancakes",
        "two ripe bananas, 100 g of rolled oats, two eggs, a pinch of salt and half a teaspoon of baking powder",
        "Blend everything until smooth and rest the batter for five "
        "minutes. Cook small ladlefuls in a lightly oiled pan over medium heat, about two minutes a side, "
        "until golden.",
    ),
    (
        "garlic butter mushrooms",
        "400 g of chestnut mushrooms, 30 g of butter, three garlic cloves and a handful of parsley",
        "Fry the mushrooms in a hot, dry pan until they release their water and "
        "brown. Add the butter and sliced garlic, cook for one more minute, then finish with parsley.",
    ),
    (
        "chickpea curry",
        "two tins of chickpeas, one tin of coconut milk, an onion, a thumb of ginger, "
        "two tablespoons of curry paste and a bag of spinach",
        "Cook the onion and ginger until soft, fry "
        "the curry paste for a minute, add chickpeas and coconut milk and simmer for 15 minutes. Wilt in "
        "the spinach just before serving with rice.",
    ),
    (
        "lemon roast chicken thighs",
        "eight chicken thighs, two lemons, four garlic cloves, fresh thyme and olive oil",
        "Toss the thighs with oil, lemon zest and juice, garlic and thyme. Roast skin side "
        "up at 200 °C for 40 minutes until the skin is crisp and the juices run clear.",
    ),
    (
        "vegetable fried rice",
        "cold cooked rice from yesterday, two eggs, frozen peas and carrots, spring onions and soy sauce",
        "Scramble the eggs in a hot wok and set them aside. Stir-fry the "
        "vegetables, add the rice and press it against the wok until it crackles, then return the eggs "
        "and season with soy sauce and spring onions.",
    ),
    (
        "overnight oats",
        "50 g of oats, 150 ml of milk, two tablespoons of yoghurt, a teaspoon of honey and some berries",
        "Stir the oats, milk, yoghurt and honey together in a jar, cover and chill "
        "overnight. Top with berries in the morning.",
    ),
    (
        "baked salmon with dill",
        "four salmon fillets, a small bunch of dill, one lemon and a tablespoon of olive oil",
        "Lay the fillets on a lined tray, brush with oil, season and cover with dill and "
        "lemon slices. Bake at 190 °C for 12 to 15 minutes until the flesh flakes easily.",
    ),
]

QUICK_QA = [
    (
        "How long should I boil an egg for a runny yolk?",
        "Lower the egg into water that is already boiling and cook it for six minutes, then move it to "
        "cold water for a minute so it stops cooking.",
    ),
    (
        "What can I use instead of buttermilk?",
        "Stir one tablespoon of lemon juice or white vinegar into a cup of milk and let it stand for ten "
        "minutes. It thickens slightly and works the same way in batters.",
    ),
    (
        "Why did my bread come out dense?",
        "The usual causes are too little rising time, yeast that was old or killed by hot water, or too "
        "much flour. Let the dough roughly double in size before baking.",
    ),
    (
        "How do I keep cut avocado from turning brown?",
        "Leave the stone in, brush the cut surface with lemon or lime juice, wrap it tightly and keep it "
        "in the fridge. Browning is harmless; you can scrape off the top layer.",
    ),
    (
        "Can I freeze cooked rice?",
        "Yes. Cool it quickly, spread it in a flat freezer bag and freeze it within an hour of cooking. "
        "Reheat it until it is steaming hot all the way through.",
    ),
    (
        "What is the difference between baking soda and baking powder?",
        "Baking soda needs an acid in the recipe, such as yoghurt or lemon juice, to make it rise. Baking "
        "powder already contains its own acid, so it works with plain milk or water.",
    ),
]


def recipe_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, ingredients, method in DISHES:
        rows.append(
            {
                "instruction": f"Give me a simple recipe for {name}.",
                "input": "",
                "output": f"You will need {ingredients}. {method}",
            }
        )
        rows.append(
            {
                "instruction": "Suggest a dish I can cook with these ingredients.",
                "input": ingredients,
                "output": f"Try {name}. {method}",
            }
        )
        rows.append(
            {
                "instruction": "How can I make this dish vegetarian or lighter?",
                "input": name,
                "output": _lighter(name),
                "history": [[f"What do I need for {name}?", f"You will need {ingredients}."]],
            }
        )
        rows.append(
            {"instruction": "Rewrite the method as numbered steps.", "input": method, "output": _numbered(method)}
        )
    for q, a in QUICK_QA:
        rows.append({"instruction": q, "input": "", "output": a})
    for i, (q, a) in enumerate(QUICK_QA):
        nxt = QUICK_QA[(i + 1) % len(QUICK_QA)]
        rows.append({"instruction": nxt[0], "input": "", "output": nxt[1], "history": [[q, a]]})
    return rows


def _lighter(name: str) -> str:
    if "chicken" in name or "salmon" in name:
        return (
            f"For a vegetarian {name.split(' with ')[0]}, swap the fish or meat for thick slices of "
            "firm tofu or halved portobello mushrooms and shorten the cooking time by a third."
        )
    return (
        f"{name.capitalize()} is already meat-free. To make it lighter, use half the oil or "
        "butter, add an extra handful of vegetables and serve a smaller portion with a green salad."
    )


def _numbered(method: str) -> str:
    steps = [s.strip().rstrip(".") for s in method.replace(", then ", ". ").split(". ") if s.strip()]
    return "\n".join(f"{n}. {s}." for n, s in enumerate(steps, 1))


# -- reasoning_multilingual.messages.jsonl -------------------------------------------------

# language -> (question template, reasoning template, answer template)
LANGS: dict[str, tuple[str, str, str]] = {
    "English": (
        "A baker sells muffins at {price} euros each. A café orders {n} muffins and gets {off}% off. "
        "How much does the café pay?",
        "Full price is {n} × {price} = {full} euros. The discount is {off}% of {full}, which is "
        "{disc} euros. So the café pays {full} − {disc} = {pay} euros.",
        "The café pays {pay} euros.",
    ),
    "German": (
        "Ein Bäcker verkauft Muffins für {price} Euro pro Stück. Ein Café bestellt {n} Muffins und "
        "bekommt {off} % Rabatt. Wie viel zahlt das Café?",
        "Der volle Preis ist {n} × {price} = {full} Euro. Der Rabatt beträgt {off} % von {full}, also "
        "{disc} Euro. Das Café zahlt {full} − {disc} = {pay} Euro.",
        "Das Café zahlt {pay} Euro.",
    ),
    "French": (
        "Un boulanger vend des muffins à {price} euros pièce. Un café en commande {n} et obtient une "
        "remise de {off} %. Combien le café paie-t-il ?",
        "Le prix plein est {n} × {price} = {full} euros. La remise vaut {off} % de {full}, soit {disc} "
        "euros. Le café paie donc {full} − {disc} = {pay} euros.",
        "Le café paie {pay} euros.",
    ),
    "Spanish": (
        "Un panadero vende magdalenas a {price} euros cada una. Una cafetería pide {n} y recibe un "
        "descuento del {off} %. ¿Cuánto paga la cafetería?",
        "El precio completo es {n} × {price} = {full} euros. El descuento es el {off} % de {full}, es "
        "decir, {disc} euros. La cafetería paga {full} − {disc} = {pay} euros.",
        "La cafetería paga {pay} euros.",
    ),
    "Chinese": (
        "一位面包师每个松饼卖 {price} 欧元。一家咖啡馆订了 {n} 个松饼，享受 {off}% 的折扣。咖啡馆要付多少钱？",
        "原价是 {n} × {price} = {full} 欧元。折扣是 {full} 的 {off}%，也就是 {disc} 欧元。"
        "所以咖啡馆要付 {full} − {disc} = {pay} 欧元。",
        "咖啡馆需要支付 {pay} 欧元。",
    ),
}
CASES = [(2, 12, 10), (3, 20, 25), (4, 15, 20), (5, 8, 50), (2, 30, 5), (3, 16, 25), (6, 10, 15)]


def _money(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def reasoning_rows() -> list[dict[str, Any]]:
    rows = []
    for ci, (price, n, off) in enumerate(CASES):
        full = price * n
        disc = full * off / 100
        values = {
            "price": price,
            "n": n,
            "off": off,
            "full": _money(full),
            "disc": _money(disc),
            "pay": _money(full - disc),
        }
        for li, (lang, (q, r, a)) in enumerate(LANGS.items()):
            key = "thinking" if (ci + li) % 2 == 0 else "reasoning_content"
            assistant = {"role": "assistant", "content": a.format(**values), key: r.format(**values)}
            messages = [{"role": "user", "content": q.format(**values)}, assistant]
            if (ci + li) % 4 == 0:
                messages.insert(0, {"role": "system", "content": "You are a careful maths tutor."})
            rows.append({"messages": messages, "reasoning_language": lang})
    return rows


# -- support.dolly.jsonl -------------------------------------------------------------------

POLICY = (
    "Orders from the Lumen store ship within two working days. Standard delivery takes three to five "
    "working days and is free above 40 euros; express delivery costs 7 euros and arrives the next "
    "working day if ordered before 14:00. Unused items can be returned within 30 days for a full "
    "refund. The Lumen smart lamp has a two-year warranty that covers faults but not accidental damage."
)
LAMP_GUIDE = (
    "To pair the Lumen smart lamp, switch it on and hold the button on the base for five seconds until "
    "the light pulses blue. Open the Lumen app, tap Add device and follow the steps. The lamp only "
    "supports 2.4 GHz Wi-Fi networks. To reset it, hold the button for fifteen seconds until it "
    "flashes red three times."
)

DOLLY: list[tuple[str, str, str, str]] = [
    (
        "closed_qa",
        "How long does standard delivery take?",
        POLICY,
        "Standard delivery takes three to five working days.",
    ),
    (
        "closed_qa",
        "Is delivery free?",
        POLICY,
        "Standard delivery is free for orders above 40 euros; below that, and for express delivery, a fee applies.",
    ),
    (
        "closed_qa",
        "Can I get my money back if I don't like the lamp?",
        POLICY,
        "Yes. If the item is unused you can return it within 30 days for a full refund.",
    ),
    (
        "closed_qa",
        "Does the warranty cover a lamp I dropped?",
        POLICY,
        "No. The two-year warranty covers faults, not accidental damage such as a drop.",
    ),
    (
        "closed_qa",
        "When do I need to order to get it tomorrow?",
        POLICY,
        "Choose express delivery and order before 14:00 on a working day to receive it the next working day.",
    ),
    (
        "closed_qa",
        "How do I reset the lamp?",
        LAMP_GUIDE,
        "Hold the button on the base for fifteen seconds until the lamp flashes red three times.",
    ),
    (
        "closed_qa",
        "Why can't the app find my lamp on my 5 GHz network?",
        LAMP_GUIDE,
        "The lamp only supports 2.4 GHz Wi-Fi, so connect your phone and the lamp to a 2.4 GHz network.",
    ),
    (
        "closed_qa",
        "What colour does the lamp show when it is ready to pair?",
        LAMP_GUIDE,
        "It pulses blue when it is ready to pair.",
    ),
    (
        "information_extraction",
        "List every time period mentioned in the policy.",
        POLICY,
        "two working days; three to five working days; the next working day; 14:00; 30 days; two years",
    ),
    (
        "information_extraction",
        "Extract the prices mentioned.",
        POLICY,
        "Free delivery threshold: 40 euros. Express delivery: 7 euros.",
    ),
    (
        "information_extraction",
        "Which buttons and lights are mentioned, and what does each mean?",
        LAMP_GUIDE,
        "The button on the base: hold 5 s to pair, 15 s to reset. Blue pulsing light: ready to pair. "
        "Three red flashes: reset done.",
    ),
    (
        "summarization",
        "Summarise the delivery and returns policy in one sentence.",
        POLICY,
        "Orders ship in two days, arrive in three to five (free over 40 euros, or next day for 7 euros), "
        "can be returned unused within 30 days, and the lamp has a two-year warranty for faults.",
    ),
    (
        "summarization",
        "Summarise the pairing guide for a customer in a hurry.",
        LAMP_GUIDE,
        "Hold the base button 5 s until it pulses blue, then add it in the Lumen app on 2.4 GHz Wi-Fi.",
    ),
    (
        "open_qa",
        "My lamp flickers when dimmed. What should I check first?",
        "",
        "Make sure the lamp has the latest firmware in the Lumen app, then try another socket without a "
        "dimmer switch. If it still flickers, contact support with the lamp's serial number.",
    ),
    (
        "open_qa",
        "Can I control the lamp with a voice assistant?",
        "",
        "Yes, once it is set up in the Lumen app you can link your Lumen account in your voice "
        "assistant's app and control it by name.",
    ),
    (
        "open_qa",
        "Does the lamp keep working when my internet is down?",
        "",
        "The button on the base always works. Schedules already saved on the lamp keep running, but app "
        "and voice control need the network.",
    ),
    (
        "open_qa",
        "How do I change the name of my lamp in the app?",
        "",
        "Open the lamp in the Lumen app, tap the settings icon, choose Name and type the new name.",
    ),
    (
        "brainstorming",
        "Give three ideas for using the lamp in a child's bedroom.",
        "",
        "1. A warm, dim night light on a timer. 2. A slow sunrise in the morning to wake up gently. "
        "3. A colour that changes when it is time to tidy up toys.",
    ),
    (
        "brainstorming",
        "Suggest friendly wording for a late-delivery apology email.",
        "",
        "We are sorry your order is running late. It has left our warehouse and should reach you within "
        "two working days. As a thank-you for your patience, here is a code for free express delivery "
        "next time.",
    ),
    (
        "classification",
        "Is this message a complaint, a question or praise? 'The lamp is lovely but the app keeps logging me out.'",
        "",
        "A complaint (with some praise for the lamp itself).",
    ),
    ("classification", "Classify the request: 'Where is my order #4821?'", "", "A delivery-status question."),
    (
        "classification",
        "Classify the request: 'I want to send the lamp back, it is too bright.'",
        "",
        "A return request.",
    ),
    (
        "general_qa",
        "What information should a customer give when reporting a faulty lamp?",
        "",
        "The order number, the lamp's serial number from the base, a short description of the fault and, "
        "if possible, a photo or video of it.",
    ),
    (
        "closed_qa",
        "How many working days until my order leaves the warehouse?",
        POLICY,
        "Orders ship within two working days.",
    ),
    ("closed_qa", "How long is the warranty?", POLICY, "The Lumen smart lamp has a two-year warranty."),
    (
        "closed_qa",
        "How long do I hold the button to start pairing?",
        LAMP_GUIDE,
        "Hold it for five seconds, until the light pulses blue.",
    ),
    (
        "information_extraction",
        "Which app is mentioned and what is it used for?",
        LAMP_GUIDE,
        "The Lumen app, used to add (pair) the lamp with the Add device option.",
    ),
    (
        "open_qa",
        "Can two people control the same lamp?",
        "",
        "Yes. The owner can share the lamp from its settings page in the Lumen app; the other person "
        "accepts the invitation in their own app.",
    ),
    (
        "brainstorming",
        "Name three short tips for reducing the lamp's energy use.",
        "",
        "1. Use a lower brightness in the evening. 2. Set an automatic switch-off time. "
        "3. Turn off the standby glow in the app's display settings.",
    ),
    (
        "general_qa",
        "How should I clean the lamp?",
        "",
        "Switch it off and unplug it, then wipe it with a dry, soft cloth. Do not use water or sprays.",
    ),
]


def support_rows() -> list[dict[str, Any]]:
    return [{"instruction": i, "context": c, "response": r, "category": cat} for cat, i, c, r in DOLLY]


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main() -> None:
    _jsonl(HERE / "counselling_zh.sharegpt.jsonl", counselling_rows())
    (HERE / "recipes.alpaca.json").write_text(
        json.dumps(recipe_rows(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    _jsonl(HERE / "reasoning_multilingual.messages.jsonl", reasoning_rows())
    _jsonl(HERE / "support.dolly.jsonl", support_rows())


if __name__ == "__main__":
    main()
